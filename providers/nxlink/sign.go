package nxlink

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
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
	// The headers other than sign, sorted by name in ASCII order.
	io.WriteString(h, "accessKey=")
	io.WriteString(h, accessKey)
	io.WriteString(h, "&action=")
	io.WriteString(h, action)
	io.WriteString(h, "&bizType=")
	io.WriteString(h, bizType)
	io.WriteString(h, "&ts=")
	io.WriteString(h, ts)
	if len(body) > 0 {
		io.WriteString(h, "&body=")
		h.Write(body)
	}
	io.WriteString(h, "&accessSecret=")
	io.WriteString(h, accessSecret)
	return hex.EncodeToString(h.Sum(nil))
}
