package burn

import (
	"math"
	"math/rand/v2"
)

// node is a node of an unbalanced binary search tree. With ~20k random keys
// its height is ~40, so the recursive functions below produce deep stacks.
type node struct {
	key         int
	val         uint64
	left, right *node
}

func insert(n *node, key int, val uint64) (*node, bool) {
	if n == nil {
		return &node{key: key, val: val}, true
	}
	var added bool
	switch {
	case key < n.key:
		n.left, added = insert(n.left, key, val)
	case key > n.key:
		n.right, added = insert(n.right, key, val)
	default:
		n.val = val
	}
	return n, added
}

func find(n *node, key int) *node {
	if n == nil || n.key == key {
		return n
	}
	if key < n.key {
		return find(n.left, key)
	}
	return find(n.right, key)
}

func remove(n *node, key int) (*node, bool) {
	if n == nil {
		return nil, false
	}
	var removed bool
	switch {
	case key < n.key:
		n.left, removed = remove(n.left, key)
		return n, removed
	case key > n.key:
		n.right, removed = remove(n.right, key)
		return n, removed
	}
	if n.left == nil {
		return n.right, true
	}
	if n.right == nil {
		return n.left, true
	}
	m := n.right
	for m.left != nil {
		m = m.left
	}
	n.key, n.val = m.key, m.val
	n.right, _ = remove(n.right, m.key)
	return n, true
}

// Visitor is called for every node in a key range. sumVisitor is used for
// ~90% of the walks: a devirtualization candidate.
type Visitor interface {
	Visit(n *node) bool
}

type sumVisitor struct {
	sum   uint64
	count int
}

func (v *sumVisitor) Visit(n *node) bool {
	x := n.val ^ uint64(n.key)
	for range 4 {
		x = mix(x + v.sum)
	}
	v.sum += x
	v.count++
	return true
}

type maxVisitor struct {
	max   uint64
	limit int
}

func (v *maxVisitor) Visit(n *node) bool {
	if n.val > v.max {
		v.max = n.val
	}
	v.limit--
	return v.limit > 0
}

func walkRange(n *node, lo, hi int, v Visitor) bool {
	if n == nil {
		return true
	}
	if lo < n.key && !walkRange(n.left, lo, hi, v) {
		return false
	}
	if lo <= n.key && n.key <= hi && !v.Visit(n) {
		return false
	}
	if n.key < hi {
		return walkRange(n.right, lo, hi, v)
	}
	return true
}

// Expr is an expression tree node evaluated recursively through the
// interface.
type Expr interface {
	Eval(env []float64) float64
}

type numExpr struct{ v float64 }

func (e *numExpr) Eval([]float64) float64 { return e.v }

type varExpr struct{ i int }

func (e *varExpr) Eval(env []float64) float64 { return env[e.i%len(env)] }

type binExpr struct {
	op   byte
	l, r Expr
}

func (e *binExpr) Eval(env []float64) float64 {
	a := e.l.Eval(env)
	b := e.r.Eval(env)
	switch e.op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	default:
		if b == 0 {
			return a
		}
		return a / b
	}
}

type callExpr struct {
	fn  func(float64) float64
	arg Expr
}

func (e *callExpr) Eval(env []float64) float64 { return e.fn(e.arg.Eval(env)) }

func buildExpr(rng *rand.Rand, depth int) Expr {
	if depth <= 0 {
		if rng.IntN(2) == 0 {
			return &numExpr{v: rng.Float64()*4 + 0.5}
		}
		return &varExpr{i: rng.IntN(8)}
	}
	if rng.IntN(6) == 0 {
		fns := []func(float64) float64{math.Sqrt, math.Abs, math.Log1p}
		return &callExpr{fn: fns[rng.IntN(len(fns))], arg: buildExpr(rng, depth-1)}
	}
	deep := buildExpr(rng, depth-1)
	shallow := buildExpr(rng, rng.IntN(3))
	if rng.IntN(2) == 0 {
		deep, shallow = shallow, deep
	}
	return &binExpr{op: "+-*/"[rng.IntN(4)], l: deep, r: shallow}
}

type treeState struct {
	rng   *rand.Rand
	root  *node
	size  int
	exprs []Expr
	env   []float64
	visit []Visitor

	recent [1024]int // keys inserted by serve, evicted round-robin
	next   uint
}

func newTreeState(rng *rand.Rand) *treeState {
	s := &treeState{rng: rng, env: make([]float64, 8)}
	for s.size < 20000 {
		var added bool
		s.root, added = insert(s.root, rng.IntN(1<<30), rng.Uint64())
		if added {
			s.size++
		}
	}
	for i := range 8 {
		s.exprs = append(s.exprs, buildExpr(rng, 30+4*i))
	}
	s.visit = []Visitor{&sumVisitor{}, &maxVisitor{}}
	return s
}

func (s *treeState) serve(h uint64) uint64 {
	var acc uint64
	// Lookups and churn on the unbalanced tree.
	for i := range 600 {
		k := int(mix(h+uint64(i)) % (1 << 30))
		if n := find(s.root, k); n != nil {
			acc += n.val
		}
	}
	// Churn: insert 10 keys, evicting the keys inserted 1024 insertions ago
	// so the tree size stays bounded.
	for i := range 10 {
		var changed bool
		slot := &s.recent[s.next%uint(len(s.recent))]
		s.next++
		if *slot != 0 {
			s.root, changed = remove(s.root, *slot)
			if changed {
				s.size--
			}
		}
		k := 1 + int(mix(h^uint64(i)<<20)%(1<<30))
		s.root, changed = insert(s.root, k, h)
		if changed {
			s.size++
			*slot = k
		} else {
			*slot = 0
		}
	}
	// Range walks through the Visitor interface.
	for i := range 12 {
		lo := int(mix(h*31+uint64(i)) % (1 << 30))
		hi := lo + 1<<30/40
		v := s.visit[0]
		if (h+uint64(i))%10 == 0 {
			mv := s.visit[1].(*maxVisitor)
			mv.limit = 100
			v = mv
		} else {
			sv := v.(*sumVisitor)
			sv.sum, sv.count = 0, 0
		}
		walkRange(s.root, lo, hi, v)
		if sv, ok := v.(*sumVisitor); ok {
			acc += sv.sum + uint64(sv.count)
		}
	}
	// Deep expression trees.
	e := s.exprs[h%uint64(len(s.exprs))]
	for i := range 250 {
		for j := range s.env {
			s.env[j] = float64((h>>j)&15) + float64(i)/7
		}
		acc += uint64(math.Float64bits(e.Eval(s.env)) >> 40)
	}
	return acc
}
