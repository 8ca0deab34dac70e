package dlna

import (
	"fmt"
	"strconv"
	"strings"
)

// SearchCriteria limits: clients send a line or two; more is hostile.
const (
	maxSearchCriteria = 4096 // bytes
	maxSearchDepth    = 32   // nested parentheses
	maxSearchNodes    = 128  // relational expressions and operators
)

// searchOp is the kind of a node of a parsed SearchCriteria.
type searchOp uint8

const (
	opAnd searchOp = iota
	opOr
	opRel // a relational expression: property, operator, value
)

// searchNode is a parsed SearchCriteria (ContentDirectory:1, 2.5.5): a
// tree of "and" and "or" over relational expressions.
type searchNode struct {
	op   searchOp
	l, r *searchNode // opAnd, opOr

	prop   string // opRel: the property, such as "dc:title" or "@refID"
	rel    string // opRel: the operator, in lower case: "=", "!=", "<", "<=", ">", ">=", "contains", "doesnotcontain", "derivedfrom", "exists"
	value  string // opRel: the quoted value; lower case but for dates
	exists bool   // opRel with rel "exists": the wanted answer
}

// relOps are the relational and string operators, in lower case.
var relOps = map[string]bool{
	"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"contains": true, "doesnotcontain": true, "derivedfrom": true, "exists": true,
}

// parseSearch parses a SearchCriteria string. It returns nil for "*" (or
// an empty string), which matches everything. Keywords and operators are
// taken without regard to case ("derivedFrom" is seen in the wild), and
// the spaces the grammar asks for around "=" may be missing. A property
// the server does not have is not an error: it is absent from every
// object, so only "exists false" holds for it. Anything else that does not
// follow the grammar is errBadSearch, wrapped with the reason.
func parseSearch(s string) (*searchNode, error) {
	if len(s) > maxSearchCriteria {
		return nil, fmt.Errorf("%w: longer than %d bytes", errBadSearch, maxSearchCriteria)
	}
	p := &searchParser{s: s}
	p.next()
	if p.tok.kind == tokEnd {
		return nil, nil
	}
	if p.tok.kind == tokWord && p.tok.text == "*" {
		p.next()
		if p.tok.kind != tokEnd {
			return nil, p.errorf("text after *")
		}
		return nil, nil
	}
	n, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEnd {
		return nil, p.errorf("unexpected %q", p.tok.text)
	}
	return n, nil
}

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokWord
	tokOp     // = != < <= > >=
	tokString // a quoted value, unescaped in text
	tokOpen
	tokClose
	tokError
)

type token struct {
	kind tokKind
	text string
	pos  int
}

type searchParser struct {
	s     string
	pos   int
	tok   token
	nodes int
}

func (p *searchParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", errBadSearch, p.tok.pos, fmt.Sprintf(format, args...))
}

func isSearchSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ':' || c == '@' || c == '_' || c == '.' || c == '-' || c == '*'
}

// next reads the next token into p.tok.
func (p *searchParser) next() {
	for p.pos < len(p.s) && isSearchSpace(p.s[p.pos]) {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(p.s) {
		p.tok = token{kind: tokEnd, pos: start}
		return
	}
	c := p.s[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok = token{kind: tokOpen, text: "(", pos: start}
	case c == ')':
		p.pos++
		p.tok = token{kind: tokClose, text: ")", pos: start}
	case c == '"':
		var b strings.Builder
		p.pos++
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			switch c {
			case '"':
				p.pos++
				p.tok = token{kind: tokString, text: b.String(), pos: start}
				return
			case '\\':
				// escapedQuote: \" and \\ are the escapes.
				if p.pos+1 < len(p.s) && (p.s[p.pos+1] == '"' || p.s[p.pos+1] == '\\') {
					b.WriteByte(p.s[p.pos+1])
					p.pos += 2
					continue
				}
			}
			b.WriteByte(c)
			p.pos++
		}
		p.tok = token{kind: tokError, text: "unterminated string", pos: start}
	case c == '=' || c == '!' || c == '<' || c == '>':
		for p.pos < len(p.s) && strings.IndexByte("=!<>", p.s[p.pos]) >= 0 {
			p.pos++
		}
		p.tok = token{kind: tokOp, text: p.s[start:p.pos], pos: start}
	case isWordByte(c):
		for p.pos < len(p.s) && isWordByte(p.s[p.pos]) {
			p.pos++
		}
		p.tok = token{kind: tokWord, text: p.s[start:p.pos], pos: start}
	default:
		p.pos++
		p.tok = token{kind: tokError, text: p.s[start:p.pos], pos: start}
	}
}

func (p *searchParser) node(n *searchNode) (*searchNode, error) {
	p.nodes++
	if p.nodes > maxSearchNodes {
		return nil, p.errorf("more than %d expressions", maxSearchNodes)
	}
	return n, nil
}

// parseOr parses searchExp ("or" binds looser than "and").
func (p *searchParser) parseOr(depth int) (*searchNode, error) {
	l, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokWord && strings.EqualFold(p.tok.text, "or") {
		p.next()
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		if l, err = p.node(&searchNode{op: opOr, l: l, r: r}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (p *searchParser) parseAnd(depth int) (*searchNode, error) {
	l, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokWord && strings.EqualFold(p.tok.text, "and") {
		p.next()
		r, err := p.parsePrimary(depth)
		if err != nil {
			return nil, err
		}
		if l, err = p.node(&searchNode{op: opAnd, l: l, r: r}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (p *searchParser) parsePrimary(depth int) (*searchNode, error) {
	switch p.tok.kind {
	case tokOpen:
		if depth >= maxSearchDepth {
			return nil, p.errorf("parentheses nested deeper than %d", maxSearchDepth)
		}
		p.next()
		n, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokClose {
			return nil, p.errorf("missing )")
		}
		p.next()
		return n, nil
	case tokWord:
		return p.parseRel()
	case tokEnd:
		return nil, p.errorf("expression expected at the end")
	case tokError:
		return nil, p.errorf("%s", p.tok.text)
	}
	return nil, p.errorf("expression expected, not %q", p.tok.text)
}

// parseRel parses relExp: property, operator, quoted value or boolean.
func (p *searchParser) parseRel() (*searchNode, error) {
	prop := p.tok.text
	if !validProperty(prop) {
		return nil, p.errorf("bad property %q", prop)
	}
	p.next()
	if p.tok.kind != tokWord && p.tok.kind != tokOp {
		return nil, p.errorf("operator expected after %s", prop)
	}
	rel := strings.ToLower(p.tok.text)
	if !relOps[rel] {
		return nil, p.errorf("unknown operator %q", p.tok.text)
	}
	p.next()
	n := &searchNode{op: opRel, prop: prop, rel: rel}
	if rel == "exists" {
		if p.tok.kind != tokWord {
			return nil, p.errorf("true or false expected after exists")
		}
		switch strings.ToLower(p.tok.text) {
		case "true":
			n.exists = true
		case "false":
		default:
			return nil, p.errorf("true or false expected after exists, not %q", p.tok.text)
		}
		p.next()
		return p.node(n)
	}
	if p.tok.kind != tokString {
		if p.tok.kind == tokError {
			return nil, p.errorf("%s", p.tok.text)
		}
		return nil, p.errorf("quoted value expected after %s", rel)
	}
	n.value = p.tok.text
	if prop != "dc:date" {
		n.value = strings.ToLower(n.value)
	}
	p.next()
	return p.node(n)
}

// validProperty reports whether s looks like a property: "ns:name",
// "@attr" or "element@attr", as in "dc:title", "@refID", "res@size".
func validProperty(s string) bool {
	if s == "" || s == "*" || strings.ContainsRune(s, '*') {
		return false
	}
	c := s[0]
	if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '@') {
		return false
	}
	return strings.ContainsAny(s, ":@") || s == "res"
}

// searchProps returns the value of a property of the object a search
// looks at, and whether it has it.
type searchProps func(prop string) (string, bool)

// match reports whether the object whose properties get returns matches
// n. A nil n matches everything.
func (n *searchNode) match(get searchProps) bool {
	if n == nil {
		return true
	}
	switch n.op {
	case opAnd:
		return n.l.match(get) && n.r.match(get)
	case opOr:
		return n.l.match(get) || n.r.match(get)
	}
	v, ok := get(n.prop)
	if n.rel == "exists" {
		return ok == n.exists
	}
	if !ok {
		return false
	}
	if n.prop != "dc:date" {
		v = strings.ToLower(v)
	}
	switch n.rel {
	case "=":
		return v == n.value
	case "!=":
		return v != n.value
	case "contains":
		return strings.Contains(v, n.value)
	case "doesnotcontain":
		return !strings.Contains(v, n.value)
	case "derivedfrom":
		return v == n.value || strings.HasPrefix(v, n.value) && len(v) > len(n.value) && v[len(n.value)] == '.'
	}
	c := compareValues(v, n.value)
	switch n.rel {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// compareValues compares two property values: as integers when both are,
// else as strings (dates in ISO 8601 compare right as strings).
func compareValues(a, b string) int {
	if x, err := strconv.ParseInt(a, 10, 64); err == nil {
		if y, err := strconv.ParseInt(b, 10, 64); err == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(a, b)
}
