package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/commands/directory/dirdata"
)

// Buckets of the directory. Values are JSON, keyed by id.
const (
	bucketOffices      = "directory.offices"
	bucketMissions     = "directory.missions"
	bucketHeadquarters = "directory.headquarters"
	bucketMeta         = "meta"
	keySeeded          = "directory.seeded"
)

// load reads the whole directory.
func load(ctx context.Context, st store.Store) (*dirdata.Directory, error) {
	d := &dirdata.Directory{}
	err := st.View(ctx, func(tx store.Tx) error {
		if err := store.ScanJSON(tx, bucketOffices, "", "", func(_ string, o dirdata.Office) error {
			d.Offices = append(d.Offices, o)
			return nil
		}); err != nil {
			return err
		}
		// Sized at once: doubling a slice of 50,000 missions would hold
		// two copies at the start's peak of memory.
		if n, err := tx.Count(bucketMissions); err == nil {
			d.Missions = make([]dirdata.Mission, 0, n)
		}
		if err := store.ScanJSON(tx, bucketMissions, "", "", func(_ string, m dirdata.Mission) error {
			d.Missions = append(d.Missions, m)
			return nil
		}); err != nil {
			return err
		}
		return store.ScanJSON(tx, bucketHeadquarters, "", "", func(_ string, h dirdata.Headquarters) error {
			d.Headquarters = append(d.Headquarters, h)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load directory: %w", err)
	}
	return d, nil
}

// seedIfNew loads the bundled public directory on the first start. The
// marker, not emptiness, decides: an operator who later empties the
// directory on purpose does not get the bundled data back.
func seedIfNew(ctx context.Context, st store.Store, now time.Time) (bool, error) {
	seeded := false
	err := st.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(bucketMeta, keySeeded)
		seeded = err == nil
		if err == store.ErrNotFound {
			return nil
		}
		return err
	})
	if err != nil || seeded {
		return false, err
	}
	f, err := dirdata.Bundled()
	if err != nil {
		return false, fmt.Errorf("bundled directory: %w", err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(bucketMeta, keySeeded); err == nil {
			return nil // another start got here first
		}
		if _, err := apply(tx, f, false); err != nil {
			return err
		}
		return tx.Put(bucketMeta, keySeeded, []byte(now.UTC().Format(time.RFC3339)))
	})
	return err == nil, err
}

// ImportReport says what an import changed, per kind.
type ImportReport struct {
	Kinds []KindReport
}

// KindReport counts the rows of one kind.
type KindReport struct {
	Kind                      string
	Rows                      int
	Added, Updated, Unchanged int
	Removed                   int // with --replace: rows not in the file
}

func (r *ImportReport) kind(name string) *KindReport {
	for i := range r.Kinds {
		if r.Kinds[i].Kind == name {
			return &r.Kinds[i]
		}
	}
	r.Kinds = append(r.Kinds, KindReport{Kind: name})
	return &r.Kinds[len(r.Kinds)-1]
}

// apply writes one file's content inside a transaction. Any error leaves
// the caller to roll back, so an import is all or nothing.
func apply(tx store.Tx, f *dirdata.File, replace bool) (*ImportReport, error) {
	rep := &ImportReport{}
	has := func(kind string) bool { return slices.Contains(f.Kinds, kind) }
	if has("offices") {
		k := rep.kind("offices")
		if err := upsertAll(tx, bucketOffices, f.Offices, func(o dirdata.Office) string { return o.ID }, replace, k); err != nil {
			return nil, err
		}
	}
	if has("missions") {
		k := rep.kind("missions")
		missions := slices.Clone(f.Missions)
		// A mission row without contacts keeps the ones already on file:
		// contacts come from their own file, and a missions.csv must not
		// wipe them. JSON says "contacts": [] to clear them.
		for i := range missions {
			if missions[i].Contacts != nil {
				continue
			}
			old, ok, err := store.GetJSON[dirdata.Mission](tx, bucketMissions, missions[i].ID)
			if err != nil {
				return nil, err
			}
			if ok {
				missions[i].Contacts = old.Contacts
			}
		}
		if err := upsertAll(tx, bucketMissions, missions, func(m dirdata.Mission) string { return m.ID }, replace, k); err != nil {
			return nil, err
		}
	}
	// Contacts from a contacts.csv; JSON carries them inside their missions.
	if has("contacts") && f.Contacts != nil {
		if err := applyContacts(tx, f, replace, rep.kind("contacts")); err != nil {
			return nil, err
		}
	}
	if has("headquarters") {
		k := rep.kind("headquarters")
		if err := upsertAll(tx, bucketHeadquarters, f.Headquarters, func(h dirdata.Headquarters) string { return h.ID }, replace, k); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func upsertAll[T any](tx store.Tx, bucket string, rows []T, id func(T) string, replace bool, k *KindReport) error {
	keep := make(map[string]bool, len(rows))
	for _, row := range rows {
		key := id(row)
		keep[key] = true
		data, err := json.Marshal(row)
		if err != nil {
			return err
		}
		old, err := tx.Get(bucket, key)
		switch {
		case err == store.ErrNotFound:
			k.Added++
		case err != nil:
			return err
		case string(old) == string(data):
			k.Unchanged++
			k.Rows++
			continue
		default:
			k.Updated++
		}
		k.Rows++
		if err := tx.Put(bucket, key, data); err != nil {
			return err
		}
	}
	if !replace {
		return nil
	}
	var stale []string
	if err := tx.Scan(bucket, "", "", func(key string, _ []byte) error {
		if !keep[key] {
			stale = append(stale, key)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, key := range stale {
		if err := tx.Delete(bucket, key); err != nil {
			return err
		}
	}
	k.Removed = len(stale)
	return nil
}

// applyContacts replaces the contacts of every mission the file names (with
// replace, every other mission's contacts are cleared). A contact for a
// mission that does not exist is an error naming its line.
func applyContacts(tx store.Tx, f *dirdata.File, replace bool, k *KindReport) error {
	ids := make([]string, 0, len(f.Contacts))
	for id := range f.Contacts {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return f.ContactLines[a] - f.ContactLines[b] })
	for _, id := range ids {
		m, ok, err := store.GetJSON[dirdata.Mission](tx, bucketMissions, id)
		if err != nil {
			return err
		}
		if !ok {
			return &dirdata.LineError{File: f.Name, Line: f.ContactLines[id], Field: "mission_id",
				Msg: fmt.Sprintf("no mission with id %q in the directory (import missions first)", id)}
		}
		contacts := f.Contacts[id]
		k.Rows += len(contacts)
		if slices.Equal(m.Contacts, contacts) {
			k.Unchanged += len(contacts)
			continue
		}
		if len(m.Contacts) == 0 {
			k.Added += len(contacts)
		} else {
			k.Updated += len(contacts)
		}
		m.Contacts = contacts
		if err := store.PutJSON(tx, bucketMissions, id, m); err != nil {
			return err
		}
	}
	if !replace {
		return nil
	}
	var clear []dirdata.Mission
	if err := store.ScanJSON(tx, bucketMissions, "", "", func(id string, m dirdata.Mission) error {
		if _, named := f.Contacts[id]; !named && len(m.Contacts) > 0 {
			clear = append(clear, m)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, m := range clear {
		k.Removed += len(m.Contacts)
		m.Contacts = nil
		if err := store.PutJSON(tx, bucketMissions, m.ID, m); err != nil {
			return err
		}
	}
	return nil
}
