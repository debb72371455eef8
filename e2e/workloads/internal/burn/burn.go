// Package burn contains the CPU workloads run by the cpuburn program.
//
// The workloads are shaped to look like a small service in a CPU profile and
// to exercise what the Go PGO compiler cares about:
//
//   - small leaf helpers that are always inlined (isDigit, rotl, mix, ...);
//   - medium-sized hot functions whose inline cost is above the default
//     budget of 80 (validateOrder, buildKey, partition, ...), so PGO's hot
//     budget (2000) lets them be inlined at hot call sites;
//   - interface method calls with one dominant concrete type (PriceRule,
//     Ordering, Digester, Visitor) and function-value calls with a dominant
//     target (mixer), i.e. PGO devirtualization candidates;
//   - deep recursion: a recursive-descent JSON parser, quicksort, an
//     unbalanced binary search tree, an expression tree and the generated
//     v00..v63 family (30-60 frames deep);
//   - real standard library work: encoding/json, sort, slices,
//     container/heap, crypto/sha256, hash/fnv, strings.Builder, maps.
package burn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
)

// Modes accepted by Config.Mode.
var Modes = []string{"mixed", "json", "sort", "hash", "tree", "render"}

// MaxVariety is the number of generated functions in the v00..v63 family.
const MaxVariety = numVariety

type kind int

const (
	kindJSON kind = iota
	kindSort
	kindHash
	kindTree
	kindRender
	numKinds
)

var kindNames = [numKinds]string{"json", "sort", "hash", "tree", "render"}

// Each kind of request is served under two endpoint names, so the pprof label
// "endpoint" has 2 values per kind and 10 in mixed mode.
var endpoints = [numKinds][2]string{
	kindJSON:   {"GET /api/users", "POST /api/orders"},
	kindSort:   {"GET /api/search", "GET /api/reports"},
	kindHash:   {"PUT /api/blobs", "GET /api/session"},
	kindTree:   {"GET /api/catalog", "GET /api/inventory"},
	kindRender: {"POST /api/render", "GET /api/feed"},
}

// NumBatches is the number of distinct values of the "request_batch" label.
const NumBatches = 50

var batchNames = func() [NumBatches]string {
	var b [NumBatches]string
	for i := range b {
		b[i] = fmt.Sprintf("batch-%02d", i)
	}
	return b
}()

// Config selects the workload.
type Config struct {
	Mode    string // one of Modes
	Workers int    // number of goroutines, >= 1
	Labels  bool   // wrap each request in pprof.Do with endpoint/request_batch labels
	Variety int    // 1..MaxVariety: number of v-functions that requests are routed through
	Seed    uint64 // picks the workload mix (mixed mode) and all random inputs
}

// Stats reports how many requests of each kind were served.
type Stats struct {
	Weights  map[string]int
	Requests map[string]int
}

func (s Stats) String() string {
	var b strings.Builder
	for k := range numKinds {
		name := kindNames[k]
		if s.Weights[name] == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s(w=%d):%d", name, s.Weights[name], s.Requests[name])
	}
	return b.String()
}

// Weights returns the relative weight of each request kind for cfg. In mixed
// mode the weights are derived from the seed, so different seeds give
// different profiles; in the single modes only one kind has a weight.
func Weights(cfg Config) ([numKinds]int, error) {
	var w [numKinds]int
	switch cfg.Mode {
	case "mixed", "":
		r := rand.New(rand.NewPCG(cfg.Seed, 0x6d69786564))
		for k := range w {
			w[k] = 1 << r.IntN(4) // 1, 2, 4 or 8
		}
	default:
		found := false
		for k, name := range kindNames {
			if name == cfg.Mode {
				w[k] = 1
				found = true
			}
		}
		if !found {
			return w, fmt.Errorf("unknown mode %q (want one of %s)", cfg.Mode, strings.Join(Modes, ", "))
		}
	}
	return w, nil
}

// Run serves requests on cfg.Workers goroutines until stop is closed, then
// returns once all workers have finished their current request.
func Run(ctx context.Context, cfg Config, stop <-chan struct{}) (Stats, error) {
	weights, err := Weights(cfg)
	if err != nil {
		return Stats{}, err
	}
	if cfg.Workers < 1 {
		return Stats{}, fmt.Errorf("workers must be >= 1, got %d", cfg.Workers)
	}
	if cfg.Variety < 1 || cfg.Variety > MaxVariety {
		return Stats{}, fmt.Errorf("variety must be in 1..%d, got %d", MaxVariety, cfg.Variety)
	}
	var total int
	var cum [numKinds]int
	for k, w := range weights {
		total += w
		cum[k] = total
	}

	var stopped atomic.Bool
	go func() {
		<-stop
		stopped.Store(true)
	}()

	workers := make([]*worker, cfg.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker(i, cfg, cum)
		workers[i] = w
		wg.Go(func() { w.loop(ctx, &stopped) })
	}
	wg.Wait()

	st := Stats{Weights: map[string]int{}, Requests: map[string]int{}}
	for k, w := range weights {
		if w > 0 {
			st.Weights[kindNames[k]] = w
		}
	}
	for _, w := range workers {
		for k, n := range w.counts {
			if n > 0 {
				st.Requests[kindNames[k]] += n
			}
		}
		sink.Add(w.result)
	}
	return st, nil
}

// sink keeps results alive so the compiler cannot drop the work.
var sink atomic.Uint64

type worker struct {
	id     int
	cfg    Config
	cum    [numKinds]int
	rng    *rand.Rand
	counts [numKinds]int
	result uint64

	js *jsonState
	ss *sortState
	hs *hashState
	ts *treeState
	vs *vstate // render requests
	rs *vstate // routing chain (variety > 1)
}

func newWorker(id int, cfg Config, cum [numKinds]int) *worker {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(id)+1))
	w := &worker{id: id, cfg: cfg, cum: cum, rng: rng}
	w.js = newJSONState(rng)
	w.ss = newSortState(rng)
	w.hs = newHashState(rng)
	w.ts = newTreeState(rng)
	w.vs = newRenderState(cfg.Variety)
	w.rs = newRouteState(cfg.Variety, w.handleCurrent)
	return w
}

func (w *worker) pick() kind {
	n := w.rng.IntN(w.cum[numKinds-1])
	for k, c := range w.cum {
		if n < c {
			return kind(k)
		}
	}
	return kindRender
}

func (w *worker) loop(ctx context.Context, stopped *atomic.Bool) {
	for !stopped.Load() {
		k := w.pick()
		h := w.rng.Uint64()
		if w.cfg.Labels {
			labels := pprof.Labels(
				"endpoint", endpoints[k][h&1],
				"request_batch", batchNames[(h>>8)%NumBatches],
			)
			pprof.Do(ctx, labels, func(context.Context) {
				w.serve(k, h)
			})
		} else {
			w.serve(k, h)
		}
		w.counts[k]++
	}
}

func (w *worker) serve(k kind, h uint64) {
	if w.cfg.Variety > 1 {
		// Route the request through a chain of 16..47 generated
		// "middleware" functions chosen by hashing the request, then
		// call the handler from the end of the chain. This multiplies
		// the number of distinct stacks by ~Variety^depth.
		w.rs.cur = k
		w.result ^= w.rs.run(h, 15+int(h>>16%32))
		return
	}
	w.result ^= w.handle(k, h)
}

// handleCurrent is the leaf of the routing chain: it serves the request
// recorded by vstate.run.
func (w *worker) handleCurrent(uint64) uint64 {
	return w.handle(w.rs.cur, w.rs.req)
}

func (w *worker) handle(k kind, h uint64) uint64 {
	switch k {
	case kindJSON:
		return w.js.serve(h)
	case kindSort:
		return w.ss.serve(h)
	case kindHash:
		return w.hs.serve(h)
	case kindTree:
		return w.ts.serve(h)
	default:
		return w.vs.render(h)
	}
}
