package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// stateDigest is a digest of a state as the protocol carries it
// (MessagePack) that does not depend on how it was encoded: the framework
// writes a map's keys in Go's map order and Terraform in sorted order, and
// either may pick another width for a number or a string. Equal values
// give equal digests; a value only one of them could encode (an unknown,
// bytes) gives an error. Lists and sets are both arrays and keep their
// order: a set the two order differently digests differently, which costs
// a refresh through the framework and nothing else.
func stateDigest(state []byte) (string, error) {
	r := bytes.NewReader(state)
	d := msgpack.NewDecoder(r)
	h := sha256.New()
	if err := canonical(d, h); err != nil {
		return "", err
	}
	if r.Len() > 0 {
		return "", fmt.Errorf("%d bytes after the value", r.Len())
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// canonical writes the next value of d to w in a form that is the same
// for every encoding of the same value: each value a type letter and a
// length or text, maps with their keys in order.
func canonical(d *msgpack.Decoder, w io.Writer) error {
	c, err := d.PeekCode()
	if err != nil {
		return err
	}
	switch {
	case c == msgpcode.Nil:
		_, err = io.WriteString(w, "n")
		return errors.Join(err, d.DecodeNil())
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.DecodeBool()
		if err != nil {
			return err
		}
		letter := "f"
		if b {
			letter = "t"
		}
		_, err = io.WriteString(w, letter)
		return err
	case msgpcode.IsString(c):
		s, err := d.DecodeString()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "s%d:%s", len(s), s)
		return err
	case msgpcode.IsFixedNum(c) || c >= msgpcode.Uint8 && c <= msgpcode.Int64:
		return canonicalInteger(d, w, c)
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.DecodeFloat64()
		if err != nil {
			return err
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			_, err = fmt.Fprintf(w, "#%d;", int64(f))
			return err
		}
		_, err = fmt.Fprintf(w, "#%s;", strconv.FormatFloat(f, 'g', -1, 64))
		return err
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "a%d:", n); err != nil {
			return err
		}
		for range n {
			if err := canonical(d, w); err != nil {
				return err
			}
		}
		return nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return canonicalMap(d, w)
	}
	return fmt.Errorf("no canonical form for MessagePack code %#x", c)
}

func canonicalInteger(d *msgpack.Decoder, w io.Writer, c byte) error {
	if c >= msgpcode.Uint8 && c <= msgpcode.Uint64 {
		u, err := d.DecodeUint64()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "#%d;", u)
		return err
	}
	i, err := d.DecodeInt64()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "#%d;", i)
	return err
}

func canonicalMap(d *msgpack.Decoder, w io.Writer) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	type entry struct {
		key   string
		value []byte
	}
	entries := make([]entry, n)
	for i := range entries {
		if entries[i].key, err = d.DecodeString(); err != nil {
			return fmt.Errorf("map key: %w", err)
		}
		var value bytes.Buffer
		if err := canonical(d, &value); err != nil {
			return err
		}
		entries[i].value = value.Bytes()
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	if _, err := fmt.Fprintf(w, "m%d:", n); err != nil {
		return err
	}
	for i := range entries {
		if _, err := fmt.Fprintf(w, "s%d:%s", len(entries[i].key), entries[i].key); err != nil {
			return err
		}
		if _, err := w.Write(entries[i].value); err != nil {
			return err
		}
	}
	return nil
}
