package registry

import (
	"encoding/json"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// change is one store event, decoded once and shared by every watcher that
// sees it (through a hub), so the cost of an event does not grow with the
// number of watchers.
type change struct {
	typ store.EventType
	cur api.Object // after the change; for a delete, the last state
	rev int64

	kind     *api.KindInfo
	key      string
	raw      []byte // the stored value after the change
	prevRaw  []byte
	prevOnce sync.Once
	prev     api.Object
	prevErr  error

	encOnce sync.Once
	encoded []byte
}

func newChange(kind *api.KindInfo, se store.Event) (*change, error) {
	cur, err := decode(kind, se.KV)
	if err != nil {
		return nil, err
	}
	c := &change{typ: se.Type, cur: cur, rev: se.KV.ModRevision, kind: kind, key: se.KV.Key, raw: se.KV.Value}
	if se.Type == store.EventUpdated {
		c.prevRaw = se.PrevValue
	}
	return c, nil
}

// previous decodes the object before an update, only when a watcher with a
// selector needs it to detect objects entering or leaving its selection.
func (c *change) previous() (api.Object, error) {
	c.prevOnce.Do(func() {
		if c.prevRaw != nil {
			c.prev, c.prevErr = decode(c.kind, store.KV{Key: c.key, Value: c.prevRaw})
		}
	})
	return c.prev, c.prevErr
}

// json is the object's wire encoding, made once for all watchers.
func (c *change) json() []byte {
	c.encOnce.Do(func() {
		c.encoded, _ = json.Marshal(c.cur)
	})
	return c.encoded
}

// seenBy turns a change into the event a watcher of namespace ("" = all)
// with the given selectors sees, if any.
func (c *change) seenBy(namespace string, sel Selectors) (Event, bool, error) {
	if namespace != "" && c.cur.GetObjectMeta().Namespace != namespace {
		return Event{}, false, nil
	}
	ev := Event{Object: c.cur, Revision: c.rev, encoded: c.json}
	if c.typ == store.EventDeleted {
		ev.Type = api.WatchDeleted
		return ev, sel.Matches(c.cur), nil
	}
	nowMatches := sel.Matches(c.cur)
	if sel.Empty() {
		ev.Type = api.WatchModified
		if c.typ == store.EventCreated {
			ev.Type = api.WatchAdded
		}
		return ev, true, nil
	}
	wasMatching := false
	if prev, err := c.previous(); err != nil {
		return Event{}, false, err
	} else if prev != nil {
		wasMatching = sel.Matches(prev)
	}
	switch {
	case nowMatches && wasMatching:
		ev.Type = api.WatchModified
	case nowMatches:
		ev.Type = api.WatchAdded
	case wasMatching:
		ev.Type = api.WatchDeleted
	default:
		return Event{}, false, nil
	}
	return ev, true, nil
}
