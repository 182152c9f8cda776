package dirdata

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Writers are deterministic: the same data gives the same bytes, whatever
// order it came in, so that exports diff cleanly and can be checked in. Rows
// are sorted by id (stably, so even duplicate ids keep a fixed order), contacts
// by mission id and then in their order within the mission. Output is built in
// memory and written once, so a failure never leaves half a file behind in w.

func sortedByID[T any](rows []T, id func(*T) string) []T {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(id(&a), id(&b)) })
	return out
}

func officeID(o *Office) string    { return o.ID }
func missionID(m *Mission) string  { return m.ID }
func hqID(h *Headquarters) string  { return h.ID }
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
func formatOptional(f *float64) string {
	if f == nil {
		return ""
	}
	return formatFloat(*f)
}

// WriteJSON writes d as one JSON document, indented by two spaces, with a
// trailing newline. Offices and missions are always present (as [] when
// empty); headquarters only when there are some.
func WriteJSON(w io.Writer, d *Directory) error {
	if d == nil {
		d = &Directory{}
	}
	out := Directory{
		Offices:      sortedByID(d.Offices, officeID),
		Missions:     sortedByID(d.Missions, missionID),
		Headquarters: sortedByID(d.Headquarters, hqID),
	}
	if out.Offices == nil {
		out.Offices = []Office{}
	}
	if out.Missions == nil {
		out.Missions = []Mission{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the file is read by people and by Read, not by a browser
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("dirdata: writing JSON: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteCSV writes one kind of d as CSV with its header row: offices,
// missions, contacts (taken from d's missions) or headquarters. Offices,
// missions and headquarters carry the source column. Missions without a
// location have empty lat and lon.
func WriteCSV(w io.Writer, kind string, d *Directory) error {
	if d == nil {
		d = &Directory{}
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	f := formatFor(kind)
	if f == nil {
		return fmt.Errorf("dirdata: cannot write CSV of %q: want offices, missions, contacts or headquarters", kind)
	}
	header := slices.Clone(f.cols)
	if f.source {
		header = append(header, "source")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	var err error
	switch kind {
	case DataOffices:
		for _, o := range sortedByID(d.Offices, officeID) {
			err = cw.Write([]string{o.ID, o.Name, o.Kind, o.City, o.State, formatFloat(o.Lat), formatFloat(o.Lon),
				o.Phone, o.AfterHoursPhone, strings.Join(o.States, ";"), o.Source})
			if err != nil {
				return err
			}
		}
	case DataMissions:
		for _, m := range sortedByID(d.Missions, missionID) {
			err = cw.Write([]string{m.ID, m.Country, m.Kind, m.Name, m.City, m.State, m.Address,
				formatOptional(m.Lat), formatOptional(m.Lon), m.Source})
			if err != nil {
				return err
			}
		}
	case DataContacts:
		for _, m := range sortedByID(d.Missions, missionID) {
			for _, c := range m.Contacts {
				if err = cw.Write([]string{m.ID, c.Name, c.Title, c.Phone, c.Email}); err != nil {
					return err
				}
			}
		}
	case DataHeadquarters:
		for _, h := range sortedByID(d.Headquarters, hqID) {
			if err = cw.Write([]string{h.ID, h.Name, h.City, h.State, h.Phone, h.Hours, h.Source}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
