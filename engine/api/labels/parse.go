package labels

import (
	"fmt"
	"slices"
)

// Parse parses a selector in the Kubernetes label selector syntax (see the
// package documentation). The empty string, and a string of only
// whitespace, is Everything.
//
// Errors quote the input and name the offending token and its byte offset,
// e.g. `labels: "app in (a": expected "," or ")", found end of input`.
func Parse(s string) (Selector, error) {
	p := parser{toks: lex(s)}
	rs, err := p.parseSelector()
	if err != nil {
		return nil, fmt.Errorf("labels: %q: %w", s, err)
	}
	return canonical(rs), nil
}

// parser is a recursive-descent parser over the tokens of one selector.
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) parseSelector() (internalSelector, error) {
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	var rs internalSelector
	for {
		r, err := p.parseRequirement()
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
		switch t := p.next(); t.kind {
		case tokEOF:
			return rs, nil
		case tokComma:
			// A trailing comma is an error, as in Kubernetes: parseRequirement
			// will report the end of input where it expects a key.
		default:
			return nil, fmt.Errorf("expected \",\" or end of input after requirement, found %s", t.describe())
		}
	}
}

func (p *parser) parseRequirement() (Requirement, error) {
	if p.peek().kind == tokBang {
		p.next()
		key, err := p.parseKey()
		if err != nil {
			return Requirement{}, err
		}
		return p.build(key, DoesNotExist, nil)
	}
	key, err := p.parseKey()
	if err != nil {
		return Requirement{}, err
	}

	t := p.peek()
	var op Operator
	switch {
	case t.kind == tokEOF || t.kind == tokComma:
		return p.build(key, Exists, nil)
	case t.kind == tokEquals:
		op = Equals
	case t.kind == tokDoubleEquals:
		op = DoubleEquals
	case t.kind == tokNotEquals:
		op = NotEquals
	case t.kind == tokWord && t.text == string(In):
		op = In
	case t.kind == tokWord && t.text == string(NotIn):
		op = NotIn
	default:
		return Requirement{}, fmt.Errorf("expected an operator (=, ==, !=, in, notin), \",\" or end of input after key %q, found %s", key.text, t.describe())
	}
	p.next()

	var values []token
	if op == In || op == NotIn {
		values, err = p.parseValueList(op)
		if err != nil {
			return Requirement{}, err
		}
	} else {
		v, ok := p.parseValue(tokEOF, tokComma)
		if !ok {
			return Requirement{}, fmt.Errorf("expected a value, \",\" or end of input after %q, found %s", op, p.peek().describe())
		}
		values = []token{v}
	}
	return p.build(key, op, values)
}

// parseKey consumes a word. Any word is accepted here, including "in" and
// "notin", which are valid label keys; key syntax is checked by build.
func (p *parser) parseKey() (token, error) {
	t := p.next()
	if t.kind != tokWord {
		return token{}, fmt.Errorf("expected a label key, found %s", t.describe())
	}
	return t, nil
}

// parseValue consumes a value. A missing value, recognised by one of the
// follow tokens coming next, is the empty value: "a=" selects a="" and
// "x in (a,)" contains "", as in Kubernetes. ok is false if the next token
// is neither a value nor a follow token.
func (p *parser) parseValue(follow ...tokenKind) (v token, ok bool) {
	t := p.peek()
	if t.kind == tokWord {
		return p.next(), true
	}
	if slices.Contains(follow, t.kind) {
		return token{kind: tokWord, pos: t.pos}, true
	}
	return token{}, false
}

// parseValueList consumes "(" [value] {"," [value]} ")". Empty entries are
// the empty value, so "()" is the set {""}, as in Kubernetes; that is also
// how Requirement.String writes it.
func (p *parser) parseValueList(op Operator) ([]token, error) {
	if t := p.next(); t.kind != tokOpen {
		return nil, fmt.Errorf("expected \"(\" after %q, found %s", op, t.describe())
	}
	var values []token
	for {
		v, ok := p.parseValue(tokComma, tokClose)
		if !ok {
			return nil, fmt.Errorf("expected a value, \",\" or \")\" in %q list, found %s", op, p.peek().describe())
		}
		values = append(values, v)
		switch t := p.next(); t.kind {
		case tokClose:
			return values, nil
		case tokComma:
		default:
			return nil, fmt.Errorf("expected \",\" or \")\", found %s", t.describe())
		}
	}
}

// build validates the parsed requirement. Key and value errors are checked
// here, before NewRequirement would, so that they carry the offset of the
// offending token.
func (p *parser) build(key token, op Operator, values []token) (Requirement, error) {
	if err := validateKey(key.text); err != nil {
		return Requirement{}, fmt.Errorf("at offset %d: %w", key.pos, err)
	}
	vs := make([]string, len(values))
	for i, v := range values {
		if err := validateValue(v.text); err != nil {
			return Requirement{}, fmt.Errorf("at offset %d: %w", v.pos, err)
		}
		vs[i] = v.text
	}
	return newRequirement(key.text, op, vs)
}
