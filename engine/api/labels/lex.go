package labels

import "fmt"

// tokenKind is the lexical class of a selector token.
type tokenKind int

const (
	tokEOF          tokenKind = iota
	tokWord                   // a key, a value, or the keywords "in" and "notin"
	tokEquals                 // =
	tokDoubleEquals           // ==
	tokNotEquals              // !=
	tokBang                   // !
	tokOpen                   // (
	tokClose                  // )
	tokComma                  // ,
)

// token is one lexeme and the byte offset where it starts, for errors.
type token struct {
	kind tokenKind
	text string
	pos  int
}

// describe names the token for error messages: `"foo"`, `","` or
// "end of input".
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of input"
	}
	return fmt.Sprintf("%q at offset %d", t.text, t.pos)
}

// lex splits s into tokens. Words are maximal runs of bytes that are neither
// whitespace nor one of "=!(),"; whether a word is a valid key or value is
// decided later, so that errors can say "invalid key" rather than
// "unexpected character". "in" and "notin" are left as words because
// whether they are operators depends on where they appear.
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isWhitespace(c):
			i++
		case c == '=' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, token{tokDoubleEquals, "==", i})
			i += 2
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, token{tokNotEquals, "!=", i})
			i += 2
		case isSpecial(c):
			toks = append(toks, token{specialKinds[c], s[i : i+1], i})
			i++
		default:
			start := i
			for i < len(s) && !isWhitespace(s[i]) && !isSpecial(s[i]) {
				i++
			}
			toks = append(toks, token{tokWord, s[start:i], start})
		}
	}
	return append(toks, token{tokEOF, "", len(s)})
}

var specialKinds = map[byte]tokenKind{
	'=': tokEquals,
	'!': tokBang,
	'(': tokOpen,
	')': tokClose,
	',': tokComma,
}

func isSpecial(c byte) bool {
	_, ok := specialKinds[c]
	return ok
}

// isWhitespace is the set Kubernetes' selector lexer skips.
func isWhitespace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}
