package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxVisits bounds the work of checking one file. Aliases can make a small
// file expand to a huge tree; no real config comes near this.
const maxVisits = 100_000

var (
	durationType  = reflect.TypeFor[time.Duration]()
	portRangeType = reflect.TypeFor[PortRange]()
	accessType    = reflect.TypeFor[Access]()
)

// decoder checks a parsed YAML tree against the Config struct before it is
// decoded. It finds every unknown key, duplicate key and wrongly typed
// value with its line, removes them from the tree so that the rest still
// decodes (and can be validated), and records the line of every key.
type decoder struct {
	file   string
	probs  []*problem
	lines  map[string]int      // key path ("ftp.listen", "shares[0].path") -> line
	merged int                 // >0 while checking a merged (<<) mapping
	active map[*yaml.Node]bool // mappings being checked, to catch merge cycles
	visits int
}

// decode parses data into a Config. It returns the config (nil when the
// file is beyond use), the line of each key path, and the problems found.
// The config is not validated.
func decode(file string, data []byte) (*Config, map[string]int, []*problem) {
	// The file is decoded into a yaml.Node first, not straight into a Config
	// with KnownFields(true): that would reject unknown keys too, but in
	// yaml.v3's words ("field listn not found in type config.FTP") and
	// without the lines Validate needs. check does the strict part instead.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty, or only comments
			return &Config{}, nil, nil
		}
		return nil, nil, []*problem{syntaxProblem(file, data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, nil, []*problem{syntaxProblem(file, data, err)}
	case !isEmptyDocument(&next):
		return nil, nil, []*problem{{file: file, line: next.Line,
			err: newError(ErrSyntax, `a second YAML document starts here; a config file holds one (remove the "---" line)`)}}
	}

	d := &decoder{file: file, lines: map[string]int{}, active: map[*yaml.Node]bool{}}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if isNull(root) {
		return &Config{}, nil, nil
	}
	if !d.check(root, reflect.TypeFor[Config](), "", "") || d.visits > maxVisits {
		return nil, nil, d.probs
	}
	var c Config
	if err := root.Decode(&c); err != nil {
		// Not expected: check removes whatever would not decode. Report
		// yaml's own words rather than fail silently.
		return nil, nil, append(d.probs, d.decodeProblems(err)...)
	}
	for i := range c.Shares {
		c.Shares[i].Line = d.lines[fmt.Sprintf("shares[%d]", i)]
	}
	for i := range c.Users {
		c.Users[i].Line = d.lines[fmt.Sprintf("users[%d]", i)]
	}
	return &c, d.lines, d.probs
}

// isEmptyDocument reports whether doc holds nothing, as after a trailing
// "---".
func isEmptyDocument(doc *yaml.Node) bool {
	return doc.Kind == yaml.DocumentNode && (len(doc.Content) == 0 || isNull(doc.Content[0]))
}

// isNull reports whether n is null: ~, null, or no value at all.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isMerge reports whether key is the merge key "<<", as yaml.v3 decides.
func isMerge(key *yaml.Node) bool {
	return key.Kind == yaml.ScalarNode && key.Value == "<<" &&
		(key.Tag == "" || key.Tag == "!" || key.ShortTag() == "!!merge")
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(resolve(n).Value)
	}
	return "that"
}

// problem records a problem at line n, about key.
func (d *decoder) problem(line int, key string, err error) {
	d.probs = append(d.probs, &problem{file: d.file, line: line, label: key, err: err})
}

// record notes the line a key path was set at. Keys written out override
// keys merged in with <<, as yaml.v3 decodes them.
func (d *decoder) record(path string, line int) {
	if _, ok := d.lines[path]; ok && d.merged > 0 {
		return
	}
	d.lines[path] = line
}

// check reports whether n can be decoded into a value of type t, recording
// problems and lines. Path is the key path for d.lines; key is the key as
// written, for messages. Parts of n that would not decode are removed from
// it; check returns false when n as a whole must be removed.
func (d *decoder) check(n *yaml.Node, t reflect.Type, path, key string) bool {
	at := n.Line
	n = resolve(n)
	d.visits++
	if d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.problem(at, key, newError(ErrInvalid, "the file expands to too many values (are aliases nested in each other?)"))
		}
		return false
	}
	if isNull(n) {
		return true // left unset, like a missing key
	}
	switch t {
	case durationType:
		return d.checkDuration(n, key)
	case portRangeType:
		var r PortRange
		if err := r.UnmarshalYAML(n); err != nil {
			d.problem(n.Line, key, err)
			return false
		}
		return true
	case accessType:
		var a Access
		if err := a.UnmarshalYAML(n); err != nil {
			d.problem(n.Line, key, err)
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return d.checkMapping(n, t, path, key)
	case reflect.Slice:
		return d.checkSequence(n, t.Elem(), path, key)
	case reflect.Pointer:
		return d.check(n, t.Elem(), path, key)
	}
	if n.Kind != yaml.ScalarNode {
		d.problem(n.Line, key, newError(ErrInvalid, "must be a single value, not %s", describe(n)))
		return false
	}
	switch t.Kind() {
	case reflect.String:
		var s string
		if err := n.Decode(&s); err != nil {
			d.problem(n.Line, key, newError(ErrInvalid, "%q is not text", n.Value))
			return false
		}
	case reflect.Int:
		if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil && n.ShortTag() == "!!str" {
			n.Tag, n.Style = "!!int", 0 // a number in quotes: "200"
		}
		var i int
		switch {
		case n.ShortTag() == "!!int" && n.Decode(&i) == nil:
		case wholeNumber.MatchString(n.Value): // yaml.v3 makes huge integers floats
			d.problem(n.Line, key, newError(ErrInvalid, "%q is too large", n.Value))
			return false
		case n.ShortTag() == "!!float":
			d.problem(n.Line, key, newError(ErrInvalid, "%q is not a whole number", n.Value))
			return false
		default:
			d.problem(n.Line, key, newError(ErrInvalid, "%q is not a number", n.Value))
			return false
		}
	case reflect.Bool:
		var b bool
		if err := n.Decode(&b); err != nil {
			d.problem(n.Line, key, newError(ErrInvalid, "%q is not true or false", n.Value))
			return false
		}
	default:
		panic("config: no check for field type " + t.String())
	}
	return true
}

// checkDuration checks a duration written as Go writes them: "90s", "5m",
// "1h30m". A bare 0 is allowed too, since it needs no unit. A valid
// duration is rewritten in canonical form so that yaml.v3 decodes it.
func (d *decoder) checkDuration(n *yaml.Node, key string) bool {
	if n.Kind != yaml.ScalarNode {
		d.problem(n.Line, key, newError(ErrInvalid, "must be a duration like 30s, 5m or 1h, not %s", describe(n)))
		return false
	}
	var dur time.Duration
	switch i, err := strconv.ParseInt(n.Value, 10, 64); {
	case n.ShortTag() == "!!int" && err == nil && i == 0:
	case n.ShortTag() == "!!int" && err == nil:
		d.problem(n.Line, key, newError(ErrInvalid, "%q is not a duration: a number needs a unit (use a form like %ds, 5m, 1h)", n.Value, i))
		return false
	default:
		dur, err = time.ParseDuration(n.Value)
		if err != nil {
			d.problem(n.Line, key, newError(ErrInvalid, "%q is not a duration (use a form like 30s, 5m, 1h)", n.Value))
			return false
		}
	}
	n.Tag, n.Style, n.Value = "!!str", 0, dur.String()
	return true
}

// field is a struct field with the key that names it in YAML.
type field struct {
	key string
	typ reflect.Type
}

// fields returns the YAML keys of struct type t in declaration order.
func fields(t reflect.Type) []field {
	var fs []field
	for sf := range t.Fields() {
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		fs = append(fs, field{name, sf.Type})
	}
	return fs
}

// checkMapping checks a section of keys against struct type t: every key
// must be one of t's, at most once.
func (d *decoder) checkMapping(n *yaml.Node, t reflect.Type, path, key string) bool {
	fs := fields(t)
	known := make([]string, len(fs))
	for i, f := range fs {
		known[i] = f.key
	}
	if n.Kind != yaml.MappingNode {
		what := "must be"
		if key == "" {
			what = "the file must be"
		}
		d.problem(n.Line, key, newError(ErrInvalid, "%s a section with the keys %s, not %s", what, strings.Join(known, ", "), describe(n)))
		return false
	}
	if d.active[n] {
		d.problem(n.Line, key, newError(ErrInvalid, "merges a section into itself"))
		return false
	}
	d.active[n] = true
	defer delete(d.active, n)

	in := ""
	if key != "" {
		in = " in " + key
	}
	seen := map[string]int{} // key -> line
	var kept, merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		rk := resolve(k)
		if isMerge(rk) {
			merges = append(merges, k, v)
			continue
		}
		if rk.Kind != yaml.ScalarNode {
			d.problem(k.Line, "", newError(ErrUnknownKey, "a key must be a plain name, not %s%s", describe(rk), in))
			continue
		}
		name := rk.Value
		var f *field
		for j := range fs {
			if fs[j].key == name {
				f = &fs[j]
				break
			}
		}
		if f == nil {
			d.problem(k.Line, "", newError(ErrUnknownKey, "unknown key %q%s (known keys: %s)", name, in, strings.Join(known, ", ")))
			continue
		}
		if first, ok := seen[name]; ok {
			d.problem(k.Line, "", newError(ErrUnknownKey, "key %q appears twice%s (first at line %d)", name, in, first))
			continue
		}
		seen[name] = k.Line
		p := name
		if path != "" {
			p = path + "." + name
		}
		d.record(p, k.Line)
		if d.check(v, f.typ, p, name) {
			kept = append(kept, k, v)
		}
	}
	// Merged keys come after the keys written out, which override them.
	d.merged++
	for i := 0; i < len(merges); i += 2 {
		k, v := merges[i], merges[i+1]
		var ok bool
		switch rv := resolve(v); rv.Kind {
		case yaml.MappingNode:
			ok = d.check(v, t, path, key)
		case yaml.SequenceNode:
			ok = true
			for _, item := range rv.Content {
				if resolve(item).Kind != yaml.MappingNode {
					ok = false
				}
			}
			if !ok {
				d.problem(k.Line, "<<", newError(ErrInvalid, "can merge only sections of keys, like <<: [*a, *b]"))
				break
			}
			for _, item := range rv.Content {
				ok = d.check(item, t, path, key) && ok
			}
		default:
			d.problem(k.Line, "<<", newError(ErrInvalid, "can merge only sections of keys, like <<: *defaults, not %s", describe(rv)))
		}
		if ok {
			kept = append(kept, k, v)
		}
	}
	d.merged--
	n.Content = kept
	return true
}

// checkSequence checks a list whose items are of type elem.
func (d *decoder) checkSequence(n *yaml.Node, elem reflect.Type, path, key string) bool {
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, key, newError(ErrInvalid, "must be a list (one \"- item\" per line, or [a, b]), not %s", describe(n)))
		return false
	}
	var kept []*yaml.Node
	for _, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, len(kept))
		d.record(p, item.Line)
		if d.check(item, elem, p, key) {
			kept = append(kept, item)
		}
	}
	n.Content = kept
	return true
}

// wholeNumber matches a decimal integer as YAML writes it.
var wholeNumber = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// yamlLine matches the line number at the start of yaml.v3's messages.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// syntaxProblem turns a yaml.v3 parse error into a problem at its line.
func syntaxProblem(file string, data []byte, err error) *problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	// yaml.v3 names the line where the enclosing block starts ("ftp:"),
	// or where it noticed the problem (the end of the file, for a quote
	// left open), not always the one that broke it.
	switch at := problemLine(data, msg); {
	case at == 0 || at == line:
	case line == 0:
		line = at
	case at > line:
		msg += fmt.Sprintf(" (in the block that starts at line %d)", line)
		line = at
	default:
		msg += fmt.Sprintf(" (noticed at line %d)", line)
		line = at
	}
	if line > 0 && strings.Contains(msg, "cannot start any token") {
		if lines := bytes.Split(data, []byte("\n")); line <= len(lines) && bytes.ContainsRune(lines[line-1], '\t') {
			msg += " (this line has a tab: indent with spaces)"
		}
	}
	return &problem{file: file, line: line, err: newError(ErrSyntax, "%s", msg)}
}

// maxProblemSearch bounds the lines problemLine looks through: it parses
// the file once per line.
const maxProblemSearch = 500

// problemLine returns the first line at which the file's first lines stop
// being a YAML document for the reason msg, the syntax error of the whole
// file: the line that broke it, where yaml.v3 reports the line that
// starts the block around it. It returns 0 if there is none.
func problemLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxProblemSearch {
		return 0
	}
	for k := 1; k <= len(lines); k++ {
		var doc yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:k], nil))).Decode(&doc)
		if err == nil || errors.Is(err, io.EOF) {
			continue
		}
		m := strings.TrimPrefix(err.Error(), "yaml: ")
		if loc := yamlLine.FindString(m); loc != "" {
			m = m[len(loc):]
		}
		if m == msg {
			return k
		}
	}
	return 0
}

// decodeProblems turns an error from yaml.v3's decoding into problems.
func (d *decoder) decodeProblems(err error) []*problem {
	var msgs []string
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	probs := make([]*problem, 0, len(msgs))
	for _, msg := range msgs {
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		probs = append(probs, &problem{file: d.file, line: line, err: newError(ErrInvalid, "%s", msg)})
	}
	return probs
}
