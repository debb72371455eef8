package main

//go:generate go run gen_variety.go

import (
	"context"
	"net/http"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
)

// chain routes one request through a data-dependent sequence of the generated functions
// v00..v63 (16 to 47 calls deep), the way a production request passes through routers,
// middleware and helpers, so that nearly every CPU sample has a stack of its own.
type chain struct {
	rng   uint64
	acc   uint64
	depth int
	leaf  func(*chain)
}

// next returns the index of the next function in the chain (xorshift).
func (c *chain) next() int {
	c.rng ^= c.rng << 13
	c.rng ^= c.rng >> 7
	c.rng ^= c.rng << 17
	return int(c.rng % 64)
}

// mixWork is a small piece of real CPU work done along the chain.
func mixWork(x uint64, rounds int) uint64 {
	for i := 0; i < rounds; i++ {
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 29
	}
	return x
}

var spanIDs atomic.Uint64

// handleVariety serves /catalog like handle, through a chain of generated calls, with the pprof
// labels dd-trace-go's code hotspots put on every sample of a traced request (its span ids and
// endpoint), which production profiles carry; under -trace the tracer's own labels stand instead.
func handleVariety(w http.ResponseWriter, r *http.Request) {
	span := spanIDs.Add(1)
	labels := pprof.Labels(
		"span id", strconv.FormatUint(span*0x9E3779B97F4A7C15>>1, 10),
		"local root span id", strconv.FormatUint(span*0xBF58476D1CE4E5B9>>1, 10),
		"trace endpoint", endpoint,
	)
	run := func(context.Context) {
		c := &chain{rng: span*0x2545F4914F6CDD1D | 1}
		c.depth = 16 + int(c.rng%32)
		c.leaf = func(*chain) { handle(w, r) }
		steps[c.next()](c)
	}
	if tracing {
		// The tracer has put its own labels (the real span ids and endpoint) on this goroutine.
		run(r.Context())
		return
	}
	pprof.Do(r.Context(), labels, run)
}
