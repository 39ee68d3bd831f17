package api

import (
	"math"
	"strconv"

	"github.com/gin-gonic/gin"
)

// rateLimit spends one request of the calling app's budget (keyed by the
// token's sub), answering 429 with Retry-After when it is spent. Every
// answer carries X-RateLimit-Limit and X-RateLimit-Remaining. When the
// limiter cannot be reached the request goes on (logged): a broken Redis must
// not stop imports.
func (s *Server) rateLimit(c *gin.Context) {
	if s.opts.RateLimiter == nil {
		c.Next()
		return
	}
	res, err := s.opts.RateLimiter.Allow(c.Request.Context(), principal(c).Subject)
	if err != nil {
		s.log.Warn("rate limiter unavailable; request allowed", "request_id", requestID(c), "err", err.Error())
		c.Next()
		return
	}
	c.Header("X-RateLimit-Limit", strconv.Itoa(res.Limit))
	c.Header("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if !res.Allowed {
		s.metrics.limited.Inc()
		r := refuse(kindRateLimited, "this app's request rate limit is spent; retry after the Retry-After seconds")
		r.retryAfter = max(int(math.Ceil(res.RetryAfter.Seconds())), 1)
		fail(c, r)
		return
	}
	c.Next()
}
