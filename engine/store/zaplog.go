package store

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// etcd and its client log through zap. newZapLogger returns a zap logger that
// hands entries at or above min to log (with component=etcd), or a no-op
// logger when log is nil, so that etcd never writes to stdout or stderr by
// itself.
//
// Once closing reports true, entries below fatal are dropped: a member being
// stopped on purpose logs its listeners closing as errors ("mux: server
// closed"), which would only alarm whoever reads the log.
func newZapLogger(log *slog.Logger, min zapcore.Level, closing *atomic.Bool) *zap.Logger {
	if log == nil {
		return zap.NewNop()
	}
	return zap.New(&slogCore{
		handler: log.Handler().WithAttrs([]slog.Attr{slog.String("component", "etcd")}),
		min:     min,
		closing: closing,
	})
}

// parseZapLevel parses an etcd log level ("debug", "info", "warn", "error"),
// "" meaning "error".
func parseZapLevel(level string) (zapcore.Level, error) {
	if level == "" {
		return zapcore.ErrorLevel, nil
	}
	return zapcore.ParseLevel(level)
}

// slogCore is a zapcore.Core writing to a slog.Handler.
type slogCore struct {
	handler slog.Handler
	min     zapcore.Level
	closing *atomic.Bool
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	if c.closing != nil && c.closing.Load() && l < zapcore.FatalLevel {
		return false
	}
	return l >= c.min && c.handler.Enabled(context.Background(), slogLevel(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{handler: c.handler.WithAttrs(attrs(fields)), min: c.min, closing: c.closing}
}

func (c *slogCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c *slogCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(ent.Time, slogLevel(ent.Level), ent.Message, 0)
	if ent.LoggerName != "" {
		r.AddAttrs(slog.String("logger", ent.LoggerName))
	}
	r.AddAttrs(attrs(fields)...)
	return c.handler.Handle(context.Background(), r)
}

func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// attrs renders zap fields through zap's map encoder, sorted by key.
func attrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		out = append(out, slog.Any(k, enc.Fields[k]))
	}
	return out
}
