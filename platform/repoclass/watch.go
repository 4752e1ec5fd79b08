package repoclass

import (
	"context"
	"log/slog"
	"maps"
	"time"
)

// Watch loads the dependency list now and then every interval until ctx ends, swapping each
// one in; a failed load keeps the list in use and is logged. It returns the first load's error
// and keeps watching in the background either way.
func (c *Classifier) Watch(ctx context.Context, load func(context.Context) (map[string]int, error), every time.Duration, log *slog.Logger) error {
	return c.WatchFunc(ctx, load, every, log, nil)
}

// WatchFunc is Watch that also hands the list to changed (when not nil): after the first load
// that succeeds, whatever it holds (what was classified before the process started may have
// used another list), and after every later load that changed the list. changed runs in the
// background, one call at a time, once the list is swapped in, so contributions classified
// from then on already use it; it gets the list as Classify looks it up (NormalizeDependencies)
// and must not modify it. When changed returns an error it is called again after the next load
// that succeeds, changed or not; it logs its own errors.
func (c *Classifier) WatchFunc(ctx context.Context, load func(context.Context) (map[string]int, error), every time.Duration, log *slog.Logger,
	changed func(context.Context, map[string]int) error) error {
	pending := changed != nil // touched by the first load, then only by the watching goroutine
	refresh := func() error {
		m, err := load(ctx)
		if err != nil {
			return err
		}
		low := NormalizeDependencies(m)
		if maps.Equal(low, *c.deps.Load()) {
			return nil
		}
		if log != nil {
			log.Info("dependency list loaded", slog.Int("repositories", len(low)))
		}
		c.deps.Store(&low)
		pending = changed != nil
		return nil
	}
	notify := func() {
		if pending && ctx.Err() == nil && changed(ctx, *c.deps.Load()) == nil {
			pending = false
		}
	}
	first := refresh()
	c.watching.Go(func() {
		if first == nil {
			notify()
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := refresh(); err != nil {
					if ctx.Err() == nil && log != nil {
						log.Warn("dependency list not refreshed", slog.Any("err", err))
					}
					continue
				}
				notify()
			}
		}
	})
	return first
}

// Wait waits until the watch started by Watch or WatchFunc has stopped (its context ended and
// a load or a call of changed in progress returned), so whoever closes the store the loads read
// may do so after it. Without a watch it returns at once.
func (c *Classifier) Wait() { c.watching.Wait() }
