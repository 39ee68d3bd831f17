package nxlink

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// Signing algorithms (the optional "algorithm" header).
const (
	AlgorithmMD5    = "md5"    // the default: no algorithm header is sent
	AlgorithmSHA256 = "sha256" // sent as header "algorithm: sha256"
)

// Fixed header values of the WhatsApp business calls.
const (
	BizType = "2"  // WhatsApp business type
	Action  = "mt" // WhatsApp business operation
)

// Sign computes NXCloud's request signature: the lowercase hex digest of
//
//	"accessKey=" + accessKey + "&action=" + action + "&bizType=" + bizType + "&ts=" + ts
//	+ "&body=" + body            (left out when body is empty)
//	+ "&accessSecret=" + accessSecret
//
// hashed with md5 when algorithm is "" or "md5", or with SHA-256 when it is
// "sha256". body must be the exact bytes sent. Any other algorithm yields "",
// which no server accepts (Config.Validate refuses such a configuration).
func Sign(algorithm, accessKey, action, bizType, ts string, body []byte, accessSecret string) string {
	var h hash.Hash
	switch algorithm {
	case "", AlgorithmMD5:
		h = md5.New()
	case AlgorithmSHA256:
		h = sha256.New()
	default:
		return ""
	}
	// The headers other than sign, sorted by name in ASCII order, written
	// through one buffer (the hashes take bytes, not strings).
	var buf [256]byte
	b := append(buf[:0], "accessKey="...)
	b = append(b, accessKey...)
	b = append(b, "&action="...)
	b = append(b, action...)
	b = append(b, "&bizType="...)
	b = append(b, bizType...)
	b = append(b, "&ts="...)
	b = append(b, ts...)
	if len(body) > 0 {
		b = append(b, "&body="...)
		h.Write(b)
		h.Write(body)
		b = b[:0]
	}
	b = append(b, "&accessSecret="...)
	b = append(b, accessSecret...)
	h.Write(b)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	n := hex.Encode(out[:], h.Sum(sum[:0]))
	return string(out[:n])
}
