package burn

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Order is encoded and decoded with encoding/json by "json" requests.
type Order struct {
	ID       int64             `json:"id"`
	Customer string            `json:"customer"`
	Status   string            `json:"status"`
	Items    []LineItem        `json:"items"`
	Tags     []string          `json:"tags"`
	Attrs    map[string]string `json:"attrs"`
	Total    float64           `json:"total"`
}

// LineItem is one line of an Order.
type LineItem struct {
	SKU      string  `json:"sku"`
	Qty      int     `json:"qty"`
	Price    float64 `json:"price"`
	Discount float64 `json:"discount,omitempty"`
}

// PriceRule is applied to every line item. percentRule is used for ~90% of
// the orders, so the interface call in priceOrder is a devirtualization
// candidate.
type PriceRule interface {
	Apply(it *LineItem, qtyTotal int) float64
}

type percentRule struct{ pct float64 }

func (r *percentRule) Apply(it *LineItem, qtyTotal int) float64 {
	p := it.Price * float64(it.Qty)
	if it.Discount > 0 {
		p -= p * it.Discount
	}
	if qtyTotal > 20 {
		p -= p * r.pct / 100
	}
	if p < 0 {
		p = 0
	}
	return p
}

type tieredRule struct{ tiers []float64 }

func (r *tieredRule) Apply(it *LineItem, qtyTotal int) float64 {
	t := r.tiers[clamp(qtyTotal/10, 0, len(r.tiers)-1)]
	return it.Price * float64(it.Qty) * (1 - t)
}

type flatRule struct{ off float64 }

func (r *flatRule) Apply(it *LineItem, _ int) float64 {
	p := it.Price*float64(it.Qty) - r.off
	if p < 0 {
		return 0
	}
	return p
}

type jsonState struct {
	rng    *rand.Rand
	orders []Order
	rules  []PriceRule
	status map[string]int
	doc    []byte
}

func newJSONState(rng *rand.Rand) *jsonState {
	return &jsonState{
		rng: rng,
		rules: []PriceRule{
			&percentRule{pct: 7.5},
			&tieredRule{tiers: []float64{0, 0.02, 0.05, 0.1}},
			&flatRule{off: 1.25},
		},
		status: map[string]int{},
	}
}

var statuses = []string{"new", "paid", "shipped", "delivered", "cancelled", "refunded"}

func (s *jsonState) serve(h uint64) uint64 {
	if h%4 != 0 {
		return s.roundTrip(h)
	}
	return s.nested(h)
}

// roundTrip marshals a batch of orders, unmarshals it again, validates and
// prices every order.
func (s *jsonState) roundTrip(h uint64) uint64 {
	n := 32 + int(h%24)
	s.orders = s.orders[:0]
	for i := range n {
		s.orders = append(s.orders, makeOrder(s.rng, int64(h>>8)+int64(i)))
	}
	data, err := json.Marshal(s.orders)
	if err != nil {
		panic(err)
	}
	var back []Order
	if err := json.Unmarshal(data, &back); err != nil {
		panic(err)
	}
	var acc uint64
	for i := range back {
		o := &back[i]
		if !validateOrder(o) {
			acc++
		}
		rule := s.rules[0]
		if r := mix(h + uint64(i)); r%10 == 0 {
			rule = s.rules[1+r/10%2]
		}
		o.Total = priceOrder(o, rule)
		s.status[o.Status]++
		acc += uint64(o.Total)
	}
	return acc + uint64(len(data))
}

func makeOrder(rng *rand.Rand, id int64) Order {
	o := Order{
		ID:       id,
		Customer: word(rng.Uint64()) + "-" + strconv.Itoa(rng.IntN(10000)),
		Status:   statuses[rng.IntN(len(statuses))],
		Attrs:    map[string]string{"region": word(rng.Uint64()), "channel": word(rng.Uint64())},
	}
	for range 2 + rng.IntN(6) {
		o.Items = append(o.Items, LineItem{
			SKU:      "SKU-" + strconv.Itoa(rng.IntN(100000)),
			Qty:      1 + rng.IntN(9),
			Price:    float64(rng.IntN(100000)) / 100,
			Discount: float64(rng.IntN(3)) / 10,
		})
	}
	for range rng.IntN(4) {
		o.Tags = append(o.Tags, word(rng.Uint64()))
	}
	return o
}

// validateOrder is a medium-sized function (inline cost well above 80) that is
// hot: a PGO inlining candidate.
func validateOrder(o *Order) bool {
	if o.ID < 0 {
		return false
	}
	if len(o.Customer) == 0 || len(o.Customer) > 64 {
		return false
	}
	for i := 0; i < len(o.Customer); i++ {
		c := o.Customer[i]
		if !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	okStatus := false
	for _, st := range statuses {
		if st == o.Status {
			okStatus = true
			break
		}
	}
	if !okStatus {
		return false
	}
	for i := range o.Items {
		it := &o.Items[i]
		if it.Qty <= 0 || it.Price < 0 || it.Discount < 0 || it.Discount >= 1 {
			return false
		}
		if !strings.HasPrefix(it.SKU, "SKU-") {
			return false
		}
		for j := 4; j < len(it.SKU); j++ {
			if !isDigit(it.SKU[j]) {
				return false
			}
		}
	}
	for _, t := range o.Tags {
		if len(t) == 0 {
			return false
		}
	}
	return len(o.Attrs) <= 8
}

func priceOrder(o *Order, rule PriceRule) float64 {
	qty := 0
	for i := range o.Items {
		qty += o.Items[i].Qty
	}
	total := 0.0
	for i := range o.Items {
		total += rule.Apply(&o.Items[i], qty)
	}
	return total
}

// nested builds a deeply nested JSON document (15-30 levels of objects
// containing arrays), parses it with the recursive-descent parser below
// (30-60+ frames deep) and with encoding/json into an `any`, then walks the
// result recursively.
func (s *jsonState) nested(h uint64) uint64 {
	depth := 15 + int(h>>4)%16
	var b strings.Builder
	writeNested(&b, h, depth)
	s.doc = append(s.doc[:0], b.String()...)

	var acc uint64
	for range 6 {
		p := parser{buf: s.doc}
		n := p.parseValue()
		if p.err {
			panic("burn: bad nested document")
		}
		acc += uint64(n.count())
	}
	var v any
	if err := json.Unmarshal(s.doc, &v); err != nil {
		panic(err)
	}
	acc += uint64(countAny(v))
	return acc
}

func writeNested(b *strings.Builder, h uint64, depth int) {
	b.WriteString(`{"name":"`)
	b.WriteString(word(h))
	b.WriteString(`","id":`)
	b.WriteString(strconv.FormatUint(h%100000, 10))
	b.WriteString(`,"vals":[`)
	for i := range 4 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(mix(h+uint64(i))%1000, 10))
		b.WriteString(".5")
	}
	b.WriteString(`],"children":[`)
	if depth > 0 {
		writeNested(b, mix(h+1), depth-1)
		if h%3 == 0 {
			b.WriteByte(',')
			writeLeaf(b, mix(h+2))
		}
	}
	b.WriteString(`],"ok":true}`)
}

func writeLeaf(b *strings.Builder, h uint64) {
	b.WriteString(`{"leaf":"`)
	b.WriteString(word(h))
	b.WriteString(`","n":null}`)
}

// jnode is the tree produced by parser.
type jnode struct {
	kind byte // 'o', 'a', 's', 'n', 'b', 'z'
	str  string
	num  float64
	keys []string
	kids []jnode
}

func (n *jnode) count() int {
	c := 1
	for i := range n.kids {
		c += n.kids[i].count()
	}
	return c
}

// parser is a small recursive-descent JSON parser.
type parser struct {
	buf []byte
	pos int
	err bool
}

func (p *parser) peek() byte {
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

func (p *parser) skipWS() {
	for p.pos < len(p.buf) && isSpace(p.buf[p.pos]) {
		p.pos++
	}
}

func (p *parser) expect(c byte) {
	p.skipWS()
	if p.peek() != c {
		p.err = true
		return
	}
	p.pos++
}

func (p *parser) parseValue() jnode {
	p.skipWS()
	switch c := p.peek(); {
	case c == '{':
		return p.parseObject()
	case c == '[':
		return p.parseArray()
	case c == '"':
		return jnode{kind: 's', str: p.parseString()}
	case c == '-' || isDigit(c):
		return jnode{kind: 'n', num: p.parseNumber()}
	case c == 't':
		p.pos += 4
		return jnode{kind: 'b', num: 1}
	case c == 'f':
		p.pos += 5
		return jnode{kind: 'b'}
	case c == 'n':
		p.pos += 4
		return jnode{kind: 'z'}
	}
	p.err = true
	return jnode{}
}

func (p *parser) parseObject() jnode {
	n := jnode{kind: 'o'}
	p.expect('{')
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		return n
	}
	for !p.err {
		p.skipWS()
		key := p.parseString()
		p.expect(':')
		n.keys = append(n.keys, key)
		n.kids = append(n.kids, p.parseValue())
		p.skipWS()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		p.expect('}')
		break
	}
	return n
}

func (p *parser) parseArray() jnode {
	n := jnode{kind: 'a'}
	p.expect('[')
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		return n
	}
	for !p.err {
		n.kids = append(n.kids, p.parseValue())
		p.skipWS()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		p.expect(']')
		break
	}
	return n
}

func (p *parser) parseString() string {
	if p.peek() != '"' {
		p.err = true
		return ""
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.buf) && p.buf[p.pos] != '"' {
		if p.buf[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	s := string(p.buf[start:p.pos])
	p.pos++
	return s
}

func (p *parser) parseNumber() float64 {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.buf) && (isDigit(p.buf[p.pos]) || p.buf[p.pos] == '.' || p.buf[p.pos] == 'e' || p.buf[p.pos] == 'E' || p.buf[p.pos] == '+' || p.buf[p.pos] == '-') {
		p.pos++
	}
	f, err := strconv.ParseFloat(string(p.buf[start:p.pos]), 64)
	if err != nil {
		p.err = true
	}
	return f
}

func countAny(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 1
		for _, c := range t {
			n += countAny(c)
		}
		return n
	case []any:
		n := 1
		for _, c := range t {
			n += countAny(c)
		}
		return n
	default:
		return 1
	}
}
