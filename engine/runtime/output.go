package runtime

// MaxExecOutput is how much of an exec's output a runtime keeps.
const MaxExecOutput = 4096

// LimitedBuffer keeps the first Max bytes written to it and discards the
// rest without failing the writer, so a chatty command still runs to its
// end. It is not safe for concurrent writers.
type LimitedBuffer struct {
	Max int
	buf []byte
}

func (b *LimitedBuffer) Write(p []byte) (int, error) {
	if room := b.Max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Bytes is what was kept.
func (b *LimitedBuffer) Bytes() []byte { return b.buf }
