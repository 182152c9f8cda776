// Package dirdata is the directory's data: field offices, missions with their
// security contacts, and the headquarters numbers; reading and writing them as
// CSV or JSON (SPEC §5) with errors that name file, line and field; and the
// bundled public data, embedded in the binary.
package dirdata

// Office kinds.
const (
	KindField     = "field"
	KindResident  = "resident"
	KindSatellite = "satellite"
)

// Office is a field, resident or satellite office.
type Office struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Kind            string   `json:"kind"` // field, resident, satellite
	City            string   `json:"city"`
	State           string   `json:"state"` // two-letter code
	Lat             float64  `json:"lat"`
	Lon             float64  `json:"lon"`
	Phone           string   `json:"phone,omitempty"`             // "" means not on file
	AfterHoursPhone string   `json:"after_hours_phone,omitempty"` // "" means not on file
	States          []string `json:"states,omitempty"`            // codes of the states it covers
	Source          string   `json:"source,omitempty"`
}

// Mission is a foreign mission: an embassy, consulate, delegation…
type Mission struct {
	ID       string    `json:"id"`
	Country  string    `json:"country"`
	Kind     string    `json:"kind"` // embassy, consulate_general, consulate, delegation, apostolic_nunciature, …
	Name     string    `json:"name"`
	City     string    `json:"city"`
	State    string    `json:"state"`
	Address  string    `json:"address,omitempty"`
	Lat      *float64  `json:"lat,omitempty"` // nil when not known
	Lon      *float64  `json:"lon,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
	Source   string    `json:"source,omitempty"`
}

// HasLocation reports whether the mission has coordinates.
func (m *Mission) HasLocation() bool { return m.Lat != nil && m.Lon != nil }

// Contact is a security contact at a mission. Not public: operators import their own.
type Contact struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Headquarters is a division-wide number: the Protective Liaison Division's
// business line, the 24-hour command center and its toll-free line.
type Headquarters struct {
	ID     string `json:"id"` // pld, command-center, command-center-toll-free
	Name   string `json:"name"`
	City   string `json:"city,omitempty"`
	State  string `json:"state,omitempty"`
	Phone  string `json:"phone"`
	Hours  string `json:"hours,omitempty"` // "business hours", "24 hours"
	Source string `json:"source,omitempty"`
}

// Well-known headquarters ids.
const (
	HQDivision              = "pld"
	HQCommandCenter         = "command-center"
	HQCommandCenterTollFree = "command-center-toll-free"
)

// Directory is a whole directory, or the part of one a file holds. The JSON
// form is one document: {"offices":[…],"missions":[…],"headquarters":[…]}.
type Directory struct {
	Offices      []Office       `json:"offices"`
	Missions     []Mission      `json:"missions"`
	Headquarters []Headquarters `json:"headquarters,omitempty"`
}
