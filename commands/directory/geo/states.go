package geo

import (
	"slices"
	"strings"

	"liaisonbot/commands/directory/index"
)

// State is a US state, the District of Columbia, or an inhabited territory.
type State struct {
	Code   string // USPS code: "TX"
	Name   string // "Texas"
	Center Point  // approximate centre, to find the office nearest the state
}

// states lists the 50 states, DC and the five inhabited territories, by
// code. Centres are approximate interior points, a widely used set of state
// centroids (within about 150 km of the geographic centre; Alaska's is the
// USGS geographic centre, the common value sitting near Anchorage); the
// territories' are their main island's. That is plenty to rank offices
// hundreds of kilometres apart, and nothing more should be read into them.
var states = []State{
	{"AL", "Alabama", Point{32.806671, -86.791130}},
	{"AK", "Alaska", Point{63.833333, -152.0}},
	{"AZ", "Arizona", Point{33.729759, -111.431221}},
	{"AR", "Arkansas", Point{34.969704, -92.373123}},
	{"CA", "California", Point{36.116203, -119.681564}},
	{"CO", "Colorado", Point{39.059811, -105.311104}},
	{"CT", "Connecticut", Point{41.597782, -72.755371}},
	{"DE", "Delaware", Point{39.318523, -75.507141}},
	{"DC", "District of Columbia", Point{38.897438, -77.026817}},
	{"FL", "Florida", Point{27.766279, -81.686783}},
	{"GA", "Georgia", Point{33.040619, -83.643074}},
	{"HI", "Hawaii", Point{21.094318, -157.498337}},
	{"ID", "Idaho", Point{44.240459, -114.478828}},
	{"IL", "Illinois", Point{40.349457, -88.986137}},
	{"IN", "Indiana", Point{39.849426, -86.258278}},
	{"IA", "Iowa", Point{42.011539, -93.210526}},
	{"KS", "Kansas", Point{38.526600, -96.726486}},
	{"KY", "Kentucky", Point{37.668140, -84.670067}},
	{"LA", "Louisiana", Point{31.169546, -91.867805}},
	{"ME", "Maine", Point{44.693947, -69.381927}},
	{"MD", "Maryland", Point{39.063946, -76.802101}},
	{"MA", "Massachusetts", Point{42.230171, -71.530106}},
	{"MI", "Michigan", Point{43.326618, -84.536095}},
	{"MN", "Minnesota", Point{45.694454, -93.900192}},
	{"MS", "Mississippi", Point{32.741646, -89.678696}},
	{"MO", "Missouri", Point{38.456085, -92.288368}},
	{"MT", "Montana", Point{46.921925, -110.454353}},
	{"NE", "Nebraska", Point{41.125370, -98.268082}},
	{"NV", "Nevada", Point{38.313515, -117.055374}},
	{"NH", "New Hampshire", Point{43.452492, -71.563896}},
	{"NJ", "New Jersey", Point{40.298904, -74.521011}},
	{"NM", "New Mexico", Point{34.840515, -106.248482}},
	{"NY", "New York", Point{42.165726, -74.948051}},
	{"NC", "North Carolina", Point{35.630066, -79.806419}},
	{"ND", "North Dakota", Point{47.528912, -99.784012}},
	{"OH", "Ohio", Point{40.388783, -82.764915}},
	{"OK", "Oklahoma", Point{35.565342, -96.928917}},
	{"OR", "Oregon", Point{44.572021, -122.070938}},
	{"PA", "Pennsylvania", Point{40.590752, -77.209755}},
	{"RI", "Rhode Island", Point{41.680893, -71.511780}},
	{"SC", "South Carolina", Point{33.856892, -80.945007}},
	{"SD", "South Dakota", Point{44.299782, -99.438828}},
	{"TN", "Tennessee", Point{35.747845, -86.692345}},
	{"TX", "Texas", Point{31.054487, -97.563461}},
	{"UT", "Utah", Point{40.150032, -111.862434}},
	{"VT", "Vermont", Point{44.045876, -72.710686}},
	{"VA", "Virginia", Point{37.769337, -78.169968}},
	{"WA", "Washington", Point{47.400902, -121.490494}},
	{"WV", "West Virginia", Point{38.491226, -80.954453}},
	{"WI", "Wisconsin", Point{44.268543, -89.616508}},
	{"WY", "Wyoming", Point{42.755966, -107.302490}},
	{"PR", "Puerto Rico", Point{18.220833, -66.590149}},
	{"GU", "Guam", Point{13.444304, 144.793731}},
	{"VI", "U.S. Virgin Islands", Point{18.335765, -64.896335}},
	{"AS", "American Samoa", Point{-14.275632, -170.702036}},
	{"MP", "Northern Mariana Islands", Point{15.185, 145.7467}},
}

var (
	byCode = map[string]int{}
	byName = map[string]int{}
)

func init() {
	for i, s := range states {
		byCode[s.Code] = i
		byName[nameKey(s.Name)] = i
	}
}

// nameKey folds a name with index.Normalize, then drops the spaces, so that
// "new york", "New-York", "NEWYORK" and "U.S. Virgin Islands" / "US Virgin
// Islands" meet.
func nameKey(name string) string {
	return strings.ReplaceAll(index.Normalize(name), " ", "")
}

// StateByCode looks a state up by its two-letter USPS code, in any case
// ("tx", "TX").
func StateByCode(code string) (State, bool) {
	i, ok := byCode[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return State{}, false
	}
	return states[i], true
}

// StateByName looks a state up by its full name, insensitive to case,
// accents, punctuation and spacing ("new york", "District of Columbia",
// "Puerto Rico"). Names only: no abbreviations or nicknames ("Washington DC"
// is not "District of Columbia", and "Washington" is the state).
func StateByName(name string) (State, bool) {
	i, ok := byName[nameKey(name)]
	if !ok {
		return State{}, false
	}
	return states[i], true
}

// AllStates returns the table: the states and DC by name, then the
// territories. It is a copy, the caller's to keep or change.
func AllStates() []State { return slices.Clone(states) }
