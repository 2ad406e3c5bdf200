package registry

import (
	"encoding/json"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// object is one stored object as the watch cache keeps it: decoded once,
// with its stored bytes and, made on first need, its wire encoding. It is
// shared by every watcher and write that uses it: never modify it.
type object struct {
	key string
	obj api.Object // resourceVersion: the revision of its last write
	raw []byte     // the stored value

	encOnce sync.Once
	encoded []byte
}

func newObject(kind *api.KindInfo, kv store.KV) (*object, error) {
	obj, err := decode(kind, kv)
	if err != nil {
		return nil, err
	}
	return &object{key: kv.Key, obj: obj, raw: kv.Value}, nil
}

// rev is the revision of the object's last write.
func (o *object) rev() int64 { return o.obj.GetObjectMeta().ResourceVersion }

// json is the object's wire encoding, made once for all watchers.
func (o *object) json() []byte {
	o.encOnce.Do(func() {
		o.encoded, _ = json.Marshal(o.obj)
	})
	return o.encoded
}

// change is one store event, decoded once and shared by every watcher that
// sees it (through a hub), so the cost of an event does not grow with the
// number of watchers.
type change struct {
	typ store.EventType
	// obj is the object after the change; for a delete, its last state
	// with the delete's revision.
	obj *object
	rev int64

	kind     *api.KindInfo
	prevRaw  []byte
	prevOnce sync.Once
	prev     api.Object
	prevErr  error
}

func newChange(kind *api.KindInfo, se store.Event) (*change, error) {
	o, err := newObject(kind, se.KV)
	if err != nil {
		return nil, err
	}
	c := &change{typ: se.Type, obj: o, rev: se.KV.ModRevision, kind: kind}
	if se.Type == store.EventUpdated {
		c.prevRaw = se.PrevValue
	}
	return c, nil
}

// size is roughly what the change keeps alive, for the hub's ring budget.
func (c *change) size() int { return 2*len(c.obj.raw) + len(c.prevRaw) }

// previous decodes the object before an update, only when a watcher with a
// selector needs it to detect objects entering or leaving its selection.
func (c *change) previous() (api.Object, error) {
	c.prevOnce.Do(func() {
		if c.prevRaw != nil {
			c.prev, c.prevErr = decode(c.kind, store.KV{Key: c.obj.key, Value: c.prevRaw})
		}
	})
	return c.prev, c.prevErr
}

// seenBy turns a change into the event a watcher of namespace ("" = all)
// with the given selectors sees, if any.
func (c *change) seenBy(namespace string, sel Selectors) (Event, bool, error) {
	cur := c.obj.obj
	if namespace != "" && cur.GetObjectMeta().Namespace != namespace {
		return Event{}, false, nil
	}
	ev := Event{Object: cur, Revision: c.rev, encoded: c.obj.json}
	if c.typ == store.EventDeleted {
		ev.Type = api.WatchDeleted
		return ev, sel.Matches(cur), nil
	}
	nowMatches := sel.Matches(cur)
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
