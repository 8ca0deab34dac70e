package config

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics, that every line of an error
// names the file, and that an accepted config validates, still validates
// with defaults applied, and survives being written out and read back.
func FuzzParse(f *testing.F) {
	f.Add([]byte(architectureExample))
	if example, err := os.ReadFile("example.yaml"); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"", "~", "- a", "ftp: {listn: x}", "ftp:\n\tlisten: x", "a: &a [*a]",
		"ftp: &f {<<: *f}", "shares: [{<<: {name: a}, path: /a}]",
		"shares: [{name: a, path: /a}, {name: A, path: /b}]",
		"ftp: {passive_ports: 5-3, idle_timeout: 300, max_clients: 1e3}",
		"name: x\n---\nname: y", "web: {listen: off, share_roots: [/media]}",
	} {
		f.Add([]byte(s))
	}
	const name = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(name, data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error: %v", err)
			}
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if !strings.HasPrefix(line, name+":") {
					t.Fatalf("error line does not name the file: %q", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
		d := c.WithDefaults()
		if err := d.Validate(); err != nil {
			t.Fatalf("defaults do not validate: %v", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		c2, err := Parse(name, out)
		if err != nil {
			t.Fatalf("written config does not parse:\n%s\n%v", out, err)
		}
		if !equalIgnoringLines(c, c2) {
			t.Fatalf("round trip changed the config:\n got %#v\nwant %#v\nfile:\n%s", c2, c, out)
		}
	})
}
