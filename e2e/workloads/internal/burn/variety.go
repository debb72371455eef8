package burn

//go:generate go run gen_variety.go

import (
	"strconv"
	"strings"
)

// vstate drives the generated v00..v63 family (variety_gen.go). Every
// v-function does a little work of its own, then picks the next function by
// hashing, so with n > 1 functions in use nearly every call chain is a
// different stack; with n == 1 only v00 recurses into itself.
type vstate struct {
	n     int                 // number of v-functions in use, 1..numVariety
	iters int                 // work loop iterations per level
	leaf  func(uint64) uint64 // called at the bottom of a chain
	table [256]uint16

	// routing (variety > 1): request being served at the end of the chain
	cur kind
	req uint64

	sb strings.Builder
}

func newVState(variety, iters int) *vstate {
	s := &vstate{n: variety, iters: iters}
	x := uint64(0x243f6a8885a308d3)
	for i := range s.table {
		x = mix(x + uint64(i))
		s.table[i] = uint16(x)
	}
	return s
}

// newRenderState returns the state for "render" requests: 8 chains of 30-60
// v-function calls each, ending in a small strings.Builder render.
func newRenderState(variety int) *vstate {
	s := newVState(variety, 800)
	s.leaf = s.renderLeaf
	return s
}

// newRouteState returns the state used to route every request through a
// short chain of v-functions when variety > 1; handler is called at the end.
func newRouteState(variety int, handler func(uint64) uint64) *vstate {
	s := newVState(variety, 8)
	s.leaf = handler
	return s
}

func (s *vstate) next(h uint64) int { return int(h % uint64(s.n)) }

// run calls a chain of depth+1 v-functions starting from one picked by h.
func (s *vstate) run(h uint64, depth int) uint64 {
	s.req = h
	return vfuncs[s.next(mix(h))](s, depth, h)
}

func (s *vstate) render(h uint64) uint64 {
	var acc uint64
	for i := range 8 {
		hh := mix(h + uint64(i)*0x9e3779b97f4a7c15)
		acc ^= s.run(hh, 30+int(hh>>8%31))
	}
	return acc
}

func (s *vstate) renderLeaf(h uint64) uint64 {
	s.sb.Reset()
	s.sb.WriteString("<li class=\"")
	s.sb.WriteString(word(h))
	s.sb.WriteString("\">")
	s.sb.WriteString(strconv.FormatUint(h%1000003, 10))
	s.sb.WriteString("</li>")
	return uint64(s.sb.Len())
}
