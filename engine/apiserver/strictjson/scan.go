package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
)

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// errSyntax stops the scan at malformed JSON; encoding/json then reports
// it with its offset.
var errSyntax = errors.New("strictjson: syntax")

// scanner walks a JSON document once, guided by a schema, and stops at the
// first repeated key or unknown field. It allocates nothing on valid
// input except for maps with many keys.
type scanner struct {
	data []byte
	pos  int
}

// pathError is a field error found while scanning; steps are collected
// innermost first as the error travels up, and rendered at the top.
type pathError struct {
	steps  []step
	typ    api.ErrorType
	detail string
}

func (e *pathError) Error() string { return e.detail }

type step struct {
	name  string // a struct field or a map key
	isKey bool   // name is a map key: rendered ["name"]
	index int    // a list index, when name == "" and !isKey
}

func (e *pathError) at(s step) error {
	e.steps = append(e.steps, s)
	return e
}

// path renders the steps outermost first.
func (e *pathError) path() api.Path {
	var p api.Path
	for i := len(e.steps) - 1; i >= 0; i-- {
		switch s := e.steps[i]; {
		case s.isKey:
			p = p.Key(s.name)
		case s.name != "":
			p = p.Child(s.name)
		default:
			p = p.Index(s.index)
		}
	}
	return p
}

func (sc *scanner) space() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\r', '\n':
			sc.pos++
		default:
			return
		}
	}
}

// value checks the value at pos against s.
func (sc *scanner) value(s *schema, depth int) error {
	sc.space()
	if sc.pos >= len(sc.data) {
		return errSyntax
	}
	if depth > maxDepth {
		return &pathError{typ: api.ErrInvalid, detail: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	switch c := sc.data[sc.pos]; {
	case c == '{' && s.shape == object:
		return sc.object(s, depth)
	case c == '{' && (s.shape == dict || s.shape == anything):
		return sc.dict(s, depth)
	case c == '{':
		// An opaque type, or the wrong type (decoding reports it).
		return sc.members(func([]byte) error { return sc.value(ignore, depth+1) })
	case c == '[' && (s.shape == list || s.shape == anything):
		return sc.list(s, depth)
	case c == '[':
		return sc.list(ignore, depth)
	case c == '"':
		_, _, err := sc.str()
		return err
	default:
		return sc.literal()
	}
}

// object checks a struct's members: known names only, each once.
func (sc *scanner) object(s *schema, depth int) error {
	var seenSmall uint64
	var seenBig []bool
	if len(s.order) > 64 {
		seenBig = make([]bool, len(s.order))
	}
	return sc.members(func(key []byte) error {
		f, ok := s.fields[string(key)]
		if !ok {
			return unknownField(s, string(key))
		}
		if seenBig != nil {
			if seenBig[f.ordinal] {
				return duplicate(f.name, false)
			}
			seenBig[f.ordinal] = true
		} else {
			bit := uint64(1) << f.ordinal
			if seenSmall&bit != 0 {
				return duplicate(f.name, false)
			}
			seenSmall |= bit
		}
		if err := sc.value(f.schema, depth+1); err != nil {
			return wrap(err, step{name: f.name})
		}
		return nil
	})
}

// dict checks a map's (or an arbitrary object's) keys are unique. Keys
// are compared as bytes of the input (no copies); past 16 keys a set of
// their hashes (pooled: big maps are where the time goes) finds a repeat
// without comparing against every key.
func (sc *scanner) dict(s *schema, depth int) error {
	elem := s.elem
	if s.shape == anything {
		elem = s
	}
	var small [16][]byte
	seen := small[:0]
	var big *keySet
	err := sc.members(func(key []byte) error {
		if len(seen) == cap(small) && big == nil {
			big = keySets.Get().(*keySet)
			for _, k := range seen {
				big.hashes[maphash.Bytes(keySeed, k)] = struct{}{}
			}
		}
		repeated := true
		if big != nil {
			h := maphash.Bytes(keySeed, key)
			if _, hit := big.hashes[h]; !hit {
				big.hashes[h] = struct{}{}
				repeated = false
			}
		}
		if repeated && slices.ContainsFunc(seen, func(k []byte) bool { return bytes.Equal(k, key) }) {
			return duplicate(string(key), true)
		}
		seen = append(seen, key)
		if err := sc.value(elem, depth+1); err != nil {
			return wrap(err, step{name: string(key), isKey: true})
		}
		return nil
	})
	if big != nil {
		clear(big.hashes)
		keySets.Put(big)
	}
	return err
}

// keySet is the hashes of a big map's keys.
type keySet struct{ hashes map[uint64]struct{} }

var keySets = sync.Pool{New: func() any { return &keySet{hashes: map[uint64]struct{}{}} }}

// keySeed seeds the hashes of map keys.
var keySeed = maphash.MakeSeed()

// members walks `{"k": v, ...}`, calling member for each key with pos at
// its value; member must consume the value.
func (sc *scanner) members(member func(key []byte) error) error {
	sc.pos++ // '{'
	sc.space()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == '}' {
		sc.pos++
		return nil
	}
	for {
		sc.space()
		if sc.pos >= len(sc.data) || sc.data[sc.pos] != '"' {
			return errSyntax
		}
		key, escaped, err := sc.str()
		if err != nil {
			return err
		}
		if escaped {
			var s string
			if json.Unmarshal(key, &s) != nil {
				return errSyntax
			}
			key = []byte(s)
		} else {
			key = key[1 : len(key)-1]
		}
		sc.space()
		if sc.pos >= len(sc.data) || sc.data[sc.pos] != ':' {
			return errSyntax
		}
		sc.pos++
		if err := member(key); err != nil {
			return err
		}
		if done, err := sc.separator('}'); done || err != nil {
			return err
		}
	}
}

func (sc *scanner) list(s *schema, depth int) error {
	elem := s.elem
	if s.shape == anything || s.shape == ignored {
		elem = s
	}
	sc.pos++ // '['
	sc.space()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == ']' {
		sc.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := sc.value(elem, depth+1); err != nil {
			return wrap(err, step{index: i})
		}
		if done, err := sc.separator(']'); done || err != nil {
			return err
		}
	}
}

// separator passes over what follows a member or element: a comma (more
// follow) or the closing byte (done); anything else is a syntax error.
func (sc *scanner) separator(closing byte) (done bool, err error) {
	sc.space()
	if sc.pos >= len(sc.data) {
		return false, errSyntax
	}
	switch sc.data[sc.pos] {
	case ',':
		sc.pos++
		return false, nil
	case closing:
		sc.pos++
		return true, nil
	}
	return false, errSyntax
}

// str passes over a string starting at pos and returns it with its
// quotes, and whether it holds escapes. It jumps from quote to quote
// (bytes.IndexByte), since strings are most of an API object's bytes.
func (sc *scanner) str() ([]byte, bool, error) {
	start, escaped := sc.pos, false
	for i := start + 1; ; {
		j := bytes.IndexByte(sc.data[i:], '"')
		if j < 0 {
			return nil, false, errSyntax
		}
		end := i + j
		if bytes.IndexByte(sc.data[i:end], '\\') >= 0 {
			escaped = true
		}
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		k := end - 1
		for k > start && sc.data[k] == '\\' {
			k--
		}
		if (end-1-k)%2 == 0 {
			sc.pos = end + 1
			return sc.data[start:sc.pos], escaped, nil
		}
		i = end + 1
	}
}

// literal passes over a number, true, false or null.
func (sc *scanner) literal() error {
	start := sc.pos
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if sc.pos == start {
				return errSyntax
			}
			return nil
		}
		sc.pos++
	}
	if sc.pos == start {
		return errSyntax
	}
	return nil
}

func wrap(err error, s step) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return pe.at(s)
	}
	return err
}

func duplicate(key string, isKey bool) error {
	return (&pathError{typ: api.ErrDuplicate,
		detail: fmt.Sprintf("duplicate key %q: a JSON object must not repeat a key (one value would silently replace the other)", key)}).
		at(step{name: key, isKey: isKey})
}

func unknownField(s *schema, key string) error {
	detail := fmt.Sprintf("unknown field %q", key)
	if exact, ok := s.folded[strings.ToLower(key)]; ok {
		detail += fmt.Sprintf(" (field names are case-sensitive: did you mean %q?)", exact)
	}
	return (&pathError{typ: api.ErrUnknown, detail: detail}).at(step{name: key})
}
