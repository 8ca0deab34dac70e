package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Accounts, access and TLS
//
// This file holds the config of named users, of who sees which share, and
// of the certificate: their types, their checks and the changes the status
// page and `mediaftpd passwd --user` save.

// User is one named account.
type User struct {
	// Name is what the user types as their login name. Names follow
	// [CheckUserName] and differ ignoring case.
	Name string `yaml:"name,omitempty"`
	// PasswordHash is the bcrypt hash of the user's password, written by
	// `mediaftpd passwd --user NAME` or the status page. The password
	// itself is never stored.
	PasswordHash string `yaml:"password_hash,omitempty"`
	// Line is the line of this user in the config file, for error
	// messages; zero when the user did not come from a file.
	Line int `yaml:"-"`
}

// Access lists the users who may see a share. The nil Access, written
// "public" or left out, is public: every client sees the share, anonymous
// ones included. A list of user names makes the share private to them.
type Access []string

// AccessPublic is how a public share's access is written.
const AccessPublic = "public"

// Interface guards.
var (
	_ yaml.Unmarshaler = (*Access)(nil)
	_ yaml.Marshaler   = Access(nil)
)

// Public reports whether a is public.
func (a Access) Public() bool { return len(a) == 0 }

// UnmarshalYAML reads "public" or a list of user names.
func (a *Access) UnmarshalYAML(n *yaml.Node) error {
	n = resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			*a = nil
			return nil
		}
		if n.Value != AccessPublic {
			return newError(ErrInvalid, "%q is neither %q nor a list of user names like [alice, bob]", n.Value, AccessPublic)
		}
		*a = nil
		return nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return newError(ErrInvalid, "an empty list would let nobody see the share; write %q or name users like [alice]", AccessPublic)
		}
		names := make(Access, 0, len(n.Content))
		for _, item := range n.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode || isNull(item) {
				return newError(ErrInvalid, "must list user names, not %s", describe(item))
			}
			names = append(names, item.Value)
		}
		*a = names
		return nil
	}
	return newError(ErrInvalid, "must be %q or a list of user names, not %s", AccessPublic, describe(n))
}

// MarshalYAML writes "public" for the public access, else the list.
func (a Access) MarshalYAML() (any, error) {
	if a.Public() {
		return AccessPublic, nil
	}
	return []string(a), nil
}

// TLS configures the certificate of FTPS and HTTPS.
type TLS struct {
	// Cert and Key are PEM files of the certificate (its chain after it)
	// and its private key, read again on SIGHUP. Without them a
	// self-signed certificate is made at first start and kept in the
	// state folder; its SHA-256 fingerprint is logged and shown on the
	// status page, for users to check when their client asks.
	Cert string `yaml:"cert,omitempty"`
	Key  string `yaml:"key,omitempty"`
	// RequireForUsers refuses a named user's login on an unencrypted FTP
	// connection, before the password is sent; nil means true. Use
	// [TLS.RequireOn]. Anonymous logins may always use plain FTP.
	RequireForUsers *bool `yaml:"require_for_users,omitempty"`
	// ImplicitListen is the host:port of implicit FTPS, where the
	// connection is encrypted from its first byte (port 990 by custom).
	// Empty means none: explicit FTPS (AUTH TLS) on ftp.listen only.
	ImplicitListen string `yaml:"implicit_listen,omitempty"`
}

// AnonymousOn reports whether anonymous logins are allowed: true unless
// Anonymous is set to false.
func (c *Config) AnonymousOn() bool { return c.Anonymous == nil || *c.Anonymous }

// RequireOn reports whether named users must log in over TLS: true unless
// RequireForUsers is set to false.
func (t *TLS) RequireOn() bool { return t.RequireForUsers == nil || *t.RequireForUsers }

// Reserved login names: they log in anonymously, so no user may have them.
var reservedUserNames = []string{"anonymous", "ftp"}

// maxUserNameBytes bounds a user name.
const maxUserNameBytes = 64

// CheckUserName reports whether name can name a user: 1 to 64 bytes of
// letters, digits and the marks . _ - @, not starting with a mark, and not
// "anonymous" or "ftp" (in any case), which log in anonymously.
func CheckUserName(name string) error {
	switch {
	case name == "":
		return newError(ErrInvalid, "missing: every user needs a name, the one typed to log in")
	case !utf8.ValidString(name):
		return newError(ErrInvalid, "%q is not valid UTF-8", name)
	case len(name) > maxUserNameBytes:
		return newError(ErrInvalid, "%q is longer than %d bytes", name, maxUserNameBytes)
	case slices.ContainsFunc(reservedUserNames, func(r string) bool { return strings.EqualFold(r, name) }):
		return newError(ErrInvalid, "%q logs in anonymously, so it cannot name a user", name)
	case strings.ContainsRune("._-@", rune(name[0])):
		return newError(ErrInvalid, "%q starts with %q; a name starts with a letter or digit", name, name[0])
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return newError(ErrInvalid, "%q contains %q; use letters, digits and . _ - @", name, r)
		}
	}
	return nil
}

// SameUserName reports whether two names name the same user: compared
// ignoring case, so no two users differ in case only. Logging in and
// access lists use the name exactly as written in users.
func SameUserName(a, b string) bool { return strings.EqualFold(a, b) }

// CheckPasswordHash reports whether hash looks like a bcrypt hash, as
// `mediaftpd passwd` writes them.
func CheckPasswordHash(hash string) error {
	if len(hash) != 60 || !(strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")) {
		return newError(ErrInvalid, "is not a bcrypt hash (set the password with mediaftpd passwd)")
	}
	return nil
}

// accounts checks users, share access and tls.
func (v *validator) accounts(c *Config) {
	for i := range c.Users {
		u := &c.Users[i]
		path := fmt.Sprintf("users[%d]", i)
		if err := CheckUserName(u.Name); err != nil {
			v.addAt(path+".name", path, "name", u.Line, err)
		} else if j := slices.IndexFunc(c.Users[:i], func(o User) bool { return SameUserName(o.Name, u.Name) }); j >= 0 {
			v.addAt(path+".name", path, "name", u.Line, newError(ErrInvalid,
				"%q is already a user (line %d; names are compared ignoring case)", u.Name, c.Users[j].Line))
		}
		switch {
		case u.PasswordHash == "":
			v.addAt(path+".password_hash", path, "password_hash", u.Line, newError(ErrInvalid,
				"missing: set it with mediaftpd passwd --user %s -config FILE", u.Name))
		default:
			v.addAt(path+".password_hash", path, "password_hash", u.Line, CheckPasswordHash(u.PasswordHash))
		}
	}
	for i := range c.Shares {
		s := &c.Shares[i]
		for j, name := range s.Access {
			switch k := slices.IndexFunc(c.Users, func(u User) bool { return SameUserName(u.Name, name) }); {
			case k < 0:
				v.addShare(s, i, "access", newError(ErrInvalid, "%q is not a user (add them under users, or fix the name)", name))
			case c.Users[k].Name != name:
				v.addShare(s, i, "access", newError(ErrInvalid, "%q is written %q under users", name, c.Users[k].Name))
			case slices.Contains(s.Access[:j], name):
				v.addShare(s, i, "access", newError(ErrInvalid, "%q is listed twice", name))
			}
		}
	}
	t := &c.TLS
	if (t.Cert == "") != (t.Key == "") {
		v.add("tls", "tls", newError(ErrInvalid, "cert and key go together: give both PEM files, or neither for a self-signed certificate"))
	}
	for _, f := range []struct{ key, val string }{{"cert", t.Cert}, {"key", t.Key}} {
		if f.val != "" && !filepath.IsAbs(f.val) {
			v.add("tls."+f.key, f.key, newError(ErrInvalid, "%q is not an absolute path", f.val))
		}
	}
	if t.ImplicitListen != "" {
		v.add("tls.implicit_listen", "implicit_listen", checkListen(t.ImplicitListen, ":990", false))
	}
}

// addAt records err about key of the list item at path (like users[0]),
// at the key's line, else the item's.
func (v *validator) addAt(keyPath, itemPath, key string, itemLine int, err error) {
	if err == nil {
		return
	}
	line := v.lines[keyPath]
	if line == 0 {
		line = itemLine
	}
	label := keyPath
	if line > 0 {
		label = key
	}
	v.probs = append(v.probs, &problem{file: v.file, line: line, label: label, err: err})
}

// Errors of account changes.
var (
	// ErrOnlyUser means a user cannot be removed: they are the only one
	// who may see a private share, which would become public.
	ErrOnlyUser = errors.New("the only user of a private share")
)

// SetUserPasswordHash stores hash as the password hash of the user named
// name in the config file at path, adding the user at the end of users if
// the file has none of that name (compared exactly). The name must follow
// CheckUserName, and differ ignoring case from every other user's.
func SetUserPasswordHash(path, name, hash string) error {
	return edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := listNode(root, "users", true)
		if err != nil {
			return false, err
		}
		if i, _ := findNamed(seq, name); i >= 0 {
			m := resolve(seq.Content[i])
			_, v := lookup(m, "password_hash")
			if v == nil {
				m.Content = append(m.Content, str("password_hash"), str(hash))
				v = m.Content[len(m.Content)-1]
			}
			if v.Kind == yaml.AliasNode || seq.Content[i].Kind == yaml.AliasNode {
				return false, fmt.Errorf("%w: user %q is written with an alias", ErrCannotEdit, name)
			}
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hash, Style: yaml.DoubleQuotedStyle,
				LineComment: v.LineComment, HeadComment: v.HeadComment, FootComment: v.FootComment}
			return true, nil
		}
		item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		item.Content = append(item.Content, str("name"), str(name), str("password_hash"),
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hash, Style: yaml.DoubleQuotedStyle})
		seq.Content = append(seq.Content, item)
		return true, nil
	})
}

// RemoveUser removes the user named name from the config file at path,
// and their name from every share's access. It reports whether the file
// had the user. It is refused with ErrOnlyUser when the user is the only
// one a private share lists: that share would become public.
func RemoveUser(path, name string) (found bool, err error) {
	err = edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := listNode(root, "users", false)
		if seq == nil || err != nil {
			return false, err
		}
		i, _ := findNamed(seq, name)
		if i < 0 {
			return false, nil
		}
		shares, err := sharesNode(root, false)
		if err != nil {
			return false, err
		}
		var lists []*yaml.Node
		if shares != nil {
			for _, item := range shares.Content {
				m := resolve(item)
				_, acc := lookup(m, "access")
				if acc == nil || resolve(acc).Kind != yaml.SequenceNode {
					continue
				}
				if acc.Kind == yaml.AliasNode {
					return false, fmt.Errorf("%w: a share's access is written with an alias", ErrCannotEdit)
				}
				k := slices.IndexFunc(acc.Content, func(n *yaml.Node) bool { return resolve(n).Value == name })
				if k < 0 {
					continue
				}
				if len(acc.Content) == 1 {
					_, sn := lookup(m, "name")
					share := ""
					if sn != nil {
						share = resolve(sn).Value
					}
					return false, fmt.Errorf("%w: %q is the only user who may see share %q; make it public or give it to another user first",
						ErrOnlyUser, name, share)
				}
				lists = append(lists, acc)
			}
		}
		for _, acc := range lists {
			acc.Content = slices.DeleteFunc(acc.Content, func(n *yaml.Node) bool { return resolve(n).Value == name })
		}
		seq.Content = slices.Delete(seq.Content, i, i+1)
		found = true
		return true, nil
	})
	return found, err
}

// SetShareAccess sets the access of the share named name (exactly) in the
// config file at path: nil makes it public (the access key is removed),
// a list makes it private to those users, who must be in users. It
// reports whether the file had the share.
func SetShareAccess(path, name string, access Access) (found bool, err error) {
	err = edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := sharesNode(root, false)
		if seq == nil || err != nil {
			return false, err
		}
		i, _ := findNamed(seq, name)
		if i < 0 {
			return false, nil
		}
		found = true
		if seq.Content[i].Kind == yaml.AliasNode {
			return false, fmt.Errorf("%w: share %q is written with an alias", ErrCannotEdit, name)
		}
		m := seq.Content[i]
		k, v := lookup(m, "access")
		if access.Public() {
			if k == nil {
				return false, nil
			}
			at := slices.Index(m.Content, k)
			m.Content = slices.Delete(m.Content, at, at+2)
			return true, nil
		}
		list := accessNode(access)
		if v == nil {
			m.Content = append(m.Content, str("access"), list)
			return true, nil
		}
		list.LineComment, list.HeadComment, list.FootComment = v.LineComment, v.HeadComment, v.FootComment
		*v = *list
		return true, nil
	})
	return found, err
}

// accessNode returns the node of a private access list, written in flow
// style: [alice, bob].
func accessNode(access Access) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, u := range access {
		list.Content = append(list.Content, str(u))
	}
	return list
}

// listNode returns the sequence under key in root. A missing or empty key
// gets an empty sequence when create is set, else the result is nil.
func listNode(root *yaml.Node, key string, create bool) (*yaml.Node, error) {
	v, err := childNode(root, key, yaml.SequenceNode, create)
	if v != nil && v.Style&yaml.FlowStyle != 0 && create { // "[]": make it a block list
		v.Style = 0
		moveLineComment(root, key)
	}
	return v, err
}
