package gateway

import "context"

// Gate takes one slot of a limit shared beyond this process (a connection's
// concurrency across replicas) for one provider call; release gives it back.
type Gate func(ctx context.Context) (release func(), err error)

type gateKey struct{}

// WithGate returns ctx whose provider calls each take a slot of g, after the
// connection's own slot in the process, and give it back when the call has
// answered.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

func gateOf(ctx context.Context) Gate {
	g, _ := ctx.Value(gateKey{}).(Gate)
	return g
}
