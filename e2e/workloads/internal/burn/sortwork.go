package burn

import (
	"cmp"
	"container/heap"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Item is sorted by "sort" requests.
type Item struct {
	ID    int
	Score float64
	Price int
	Rank  int
	Name  string
}

// Ordering is the comparator used by quickSort. byScore is used for ~90% of
// the requests, so o.Less in partition is a devirtualization candidate.
type Ordering interface {
	Less(a, b *Item) bool
}

type byScore struct{}

func (byScore) Less(a, b *Item) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.ID < b.ID
}

type byPriceDesc struct{}

func (byPriceDesc) Less(a, b *Item) bool {
	if a.Price != b.Price {
		return a.Price > b.Price
	}
	return a.ID < b.ID
}

type byNameLen struct{}

func (byNameLen) Less(a, b *Item) bool {
	if len(a.Name) != len(b.Name) {
		return len(a.Name) < len(b.Name)
	}
	return a.Name < b.Name
}

type sortState struct {
	base   []Item
	work   []Item
	orders []Ordering
	ptrs   []*Item
}

func newSortState(rng *rand.Rand) *sortState {
	s := &sortState{orders: []Ordering{byScore{}, byPriceDesc{}, byNameLen{}}}
	s.base = make([]Item, 8192)
	for i := range s.base {
		s.base[i] = Item{
			ID:    i,
			Score: rng.Float64() * 1000,
			Price: rng.IntN(100000),
			Rank:  rng.IntN(1 << 20),
			Name:  word(rng.Uint64()) + "-" + strconv.Itoa(rng.IntN(1000)),
		}
	}
	return s
}

func (s *sortState) serve(h uint64) uint64 {
	n := 1500 + int(h%2500)
	start := int(h>>12) % (len(s.base) - n)
	s.work = append(s.work[:0], s.base[start:start+n]...)
	// Perturb the scores so that every request sorts different data.
	for i := range s.work {
		s.work[i].Score = float64(mix(h^uint64(s.work[i].ID))%1000000) / 1000
	}

	ord := s.orders[0]
	if r := mix(h); r%10 == 0 {
		ord = s.orders[1+r/10%2]
	}
	quickSort(s.work, ord)
	acc := uint64(s.work[0].ID)

	switch h >> 40 % 4 {
	case 0:
		sort.Slice(s.work, func(i, j int) bool {
			if c := strings.Compare(s.work[i].Name, s.work[j].Name); c != 0 {
				return c < 0
			}
			return s.work[i].ID < s.work[j].ID
		})
		acc += uint64(len(s.work[0].Name))
	case 1:
		slices.SortFunc(s.work, func(a, b Item) int {
			return cmp.Or(cmp.Compare(a.Price, b.Price), cmp.Compare(a.ID, b.ID))
		})
		i := sort.Search(len(s.work), func(i int) bool { return s.work[i].Price >= int(h%100000) })
		acc += uint64(i)
	case 2:
		sort.Sort(byRank(s.work))
		for k := range 64 {
			r := int(mix(h+uint64(k)) % (1 << 20))
			i := sort.Search(len(s.work), func(i int) bool { return s.work[i].Rank >= r })
			acc += uint64(i)
		}
	default:
		acc += s.topK(32)
	}
	return acc
}

// quickSort recurses on both halves (no tail-call trick), so on random input
// its stack reaches depth ~30-40 for a few thousand items.
func quickSort(a []Item, ord Ordering) {
	if len(a) <= 6 {
		insertionSort(a, ord)
		return
	}
	p := partition(a, ord)
	quickSort(a[:p], ord)
	quickSort(a[p+1:], ord)
}

// partition is medium sized and hot: a PGO inlining candidate, with a
// devirtualization candidate (ord.Less) in its loop.
func partition(a []Item, ord Ordering) int {
	mid := len(a) / 2
	last := len(a) - 1
	a[mid], a[last] = a[last], a[mid]
	pivot := &a[last]
	i := 0
	for j := 0; j < last; j++ {
		if ord.Less(&a[j], pivot) {
			a[i], a[j] = a[j], a[i]
			i++
		}
	}
	a[i], a[last] = a[last], a[i]
	return i
}

func insertionSort(a []Item, ord Ordering) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && ord.Less(&a[j], &a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

type byRank []Item

func (r byRank) Len() int           { return len(r) }
func (r byRank) Less(i, j int) bool { return r[i].Rank < r[j].Rank }
func (r byRank) Swap(i, j int)      { r[i], r[j] = r[j], r[i] }

// itemHeap is a min-heap on Score used through container/heap.
type itemHeap []*Item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].Score < h[j].Score }
func (h itemHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)        { *h = append(*h, x.(*Item)) }
func (h *itemHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}

func (s *sortState) topK(k int) uint64 {
	hp := itemHeap(s.ptrs[:0])
	for i := range s.work {
		it := &s.work[i]
		if hp.Len() < k {
			heap.Push(&hp, it)
		} else if it.Score > hp[0].Score {
			hp[0] = it
			heap.Fix(&hp, 0)
		}
	}
	var acc uint64
	for hp.Len() > 0 {
		acc = acc*31 + uint64(heap.Pop(&hp).(*Item).ID)
	}
	s.ptrs = hp[:0]
	return acc
}
