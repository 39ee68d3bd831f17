// Package redisclient builds the gateway's one Redis client, a
// redis.UniversalClient, from the configuration: one server from a
// redis:// URL, or go-redis's universal options (one server, a Sentinel
// group or a Redis Cluster). It also holds the key prefix every package
// starts its keys with, and the hash-tag rule that keeps each script and
// transaction on one Cluster slot.
package redisclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every Redis key of the gateway when no prefix is
// configured.
const DefaultPrefix = "crmgate:"

// Options are the `redis` block of the configuration (go-redis's universal
// options): one address is one server; MasterName set means a Sentinel
// group whose sentinels Addrs lists; several Addrs without MasterName are
// the seed nodes of a Redis Cluster.
type Options struct {
	Addrs      []string
	MasterName string
	Username   string
	Password   string
	DB         int
	TLS        bool
}

// Kind names what Options describe: "server", "sentinel" or "cluster".
func (o Options) Kind() string {
	switch {
	case o.MasterName != "":
		return "sentinel"
	case len(o.Addrs) > 1:
		return "cluster"
	default:
		return "server"
	}
}

// Validate says what is wrong with o, each problem naming its key under
// at ("redis").
func (o Options) Validate(at string) error {
	var errs []error
	if len(o.Addrs) == 0 {
		errs = append(errs, fmt.Errorf("%s.addrs: required (host:port of the server, the sentinels or cluster nodes)", at))
	}
	for i, a := range o.Addrs {
		if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
			errs = append(errs, fmt.Errorf("%s.addrs[%d]: %q is not host:port", at, i, a))
		}
	}
	if o.DB < 0 {
		errs = append(errs, fmt.Errorf("%s.db: must not be negative", at))
	}
	if o.DB != 0 && o.Kind() == "cluster" {
		errs = append(errs, fmt.Errorf("%s.db: a Redis Cluster has database 0 only", at))
	}
	return errors.Join(errs...)
}

// New returns a client for o. It connects lazily: an unreachable server is
// an error on first use, not here. Like FromURL's, its commands end at their
// context's deadline (see FromURL).
func New(o Options) (redis.UniversalClient, error) {
	if err := o.Validate("redis"); err != nil {
		return nil, err
	}
	u := &redis.UniversalOptions{
		Addrs:                 o.Addrs,
		MasterName:            o.MasterName,
		Username:              o.Username,
		Password:              o.Password,
		DB:                    o.DB,
		ContextTimeoutEnabled: true,
	}
	if o.TLS {
		u.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return redis.NewUniversalClient(u), nil
}

// FromURL returns a client of one server from rawURL
// (redis://[user:password@]host:port/db, or rediss:// for TLS). A malformed
// URL is an error that does not repeat the URL (it may hold a password).
//
// A command ends at its context's deadline, the socket's read and write
// included (go-redis's ContextTimeoutEnabled), not only at the client's own
// read timeout (5 s): the gateway's bounds shorter than that hold against a
// server that stops answering — a readiness check's second, an
// Idempotency-Key renewal's third of a lease, history.PutTimeout.
func FromURL(rawURL string) (redis.UniversalClient, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errors.New("redis_url is not a valid redis:// URL")
	}
	o.ContextTimeoutEnabled = true
	return redis.NewClient(o), nil
}

// Prefix is prefix, or DefaultPrefix when it is empty.
func Prefix(prefix string) string {
	if prefix == "" {
		return DefaultPrefix
	}
	return prefix
}

// Tag returns prefix + "{" + id + "}": the start of keys that must be
// touched together by one script or transaction. Redis Cluster places a
// key by the text between its first "{" and the next "}", so every key
// starting with Tag(prefix, id) is in one slot, and a script touching only
// such keys runs on a Cluster.
func Tag(prefix, id string) string { return prefix + "{" + id + "}" }

// ValidPrefix says whether prefix can start the gateway's keys: it must not
// hold "{" or "}", which would change the hash tags the keys rely on.
func ValidPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("%q holds { or }, which would change the keys' hash tags", prefix)
	}
	return nil
}
