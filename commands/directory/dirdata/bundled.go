package dirdata

import (
	"embed"
	"fmt"
)

// The bundled public directory, loaded on the first start so the bot answers
// from the first minute (SPEC §4). The files are copies of the reference data
// with its provenance notes; the fictional sample contacts live in testdata
// and are never bundled.
//
//go:embed bundled/offices.csv bundled/missions.csv bundled/headquarters.csv bundled/SOURCES.md bundled/README.md
var bundledFS embed.FS

// Bundled returns the parsed bundled offices, missions and headquarters. It
// has no contacts: mission security contacts are not public. Every call
// returns a fresh copy that the caller may change.
func Bundled() (*File, error) {
	out := &File{Name: "bundled", Kinds: []string{DataOffices, DataMissions, DataHeadquarters}}
	for _, kind := range []string{DataOffices, DataMissions, DataHeadquarters} {
		name := "bundled/" + kind + ".csv"
		data, err := bundledFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parse(name, ".csv", data)
		if err != nil {
			return nil, err
		}
		if len(f.Kinds) != 1 || f.Kinds[0] != kind {
			return nil, fmt.Errorf("dirdata: %s carries %v, want %s", name, f.Kinds, kind)
		}
		out.Offices = append(out.Offices, f.Offices...)
		out.Missions = append(out.Missions, f.Missions...)
		out.Headquarters = append(out.Headquarters, f.Headquarters...)
	}
	return out, nil
}

// BundledSources returns SOURCES.md, which says where every bundled fact
// comes from and how far to trust it.
func BundledSources() []byte {
	data, err := bundledFS.ReadFile("bundled/SOURCES.md")
	if err != nil {
		panic("dirdata: SOURCES.md is not embedded: " + err.Error())
	}
	return data
}
