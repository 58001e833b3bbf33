package sbom

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	scalibrlog "github.com/google/osv-scalibr/log"
)

// osv-scalibr logs through a process-wide logger that writes to stderr by default.
// tether installs one forwarder that sends those records to the logger of the most
// recent catalog call (discarded unless the caller asked for logs).
var scalibrTarget atomic.Pointer[slog.Logger]

var installForwarder sync.Once

func routeScalibrLogs(l *slog.Logger) {
	installForwarder.Do(func() { scalibrlog.SetLogger(scalibrForwarder{}) })
	scalibrTarget.Store(l)
}

type scalibrForwarder struct{}

func (scalibrForwarder) log(level slog.Level, msg string) {
	l := scalibrTarget.Load()
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	l.Log(context.Background(), level, msg, "from", "osv-scalibr")
}

func (f scalibrForwarder) Errorf(format string, args ...any) {
	f.log(slog.LevelError, fmt.Sprintf(format, args...))
}
func (f scalibrForwarder) Warnf(format string, args ...any) {
	f.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (f scalibrForwarder) Infof(format string, args ...any) {
	f.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (f scalibrForwarder) Debugf(format string, args ...any) {
	f.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (f scalibrForwarder) Error(args ...any) { f.log(slog.LevelError, fmt.Sprint(args...)) }
func (f scalibrForwarder) Warn(args ...any)  { f.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (f scalibrForwarder) Info(args ...any)  { f.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (f scalibrForwarder) Debug(args ...any) { f.log(slog.LevelDebug, fmt.Sprint(args...)) }
