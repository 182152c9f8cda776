package bot

// Visibility says who sees an answer.
type Visibility int

const (
	Ephemeral Visibility = iota // only the person who asked (lookups, errors)
	InChannel                   // everyone in the channel (incidents, handoffs)
)

// Message is a platform-neutral answer or post. Every string in it is plain
// text, possibly typed or imported by someone outside the division: adapters
// escape it for their platform so that nothing becomes a mention or a link.
type Message struct {
	Visibility Visibility
	Title      string
	Text       string
	Sections   []Section
	Buttons    []Button
	Footer     string // a closing line of context, such as the 24-hour number
	Error      bool   // the answer reports a problem with the request
	// Frozen marks a message shared between answers, such as a look-up's
	// answer kept for a directory snapshot: nobody may change it, and an
	// adapter may keep its rendering keyed by the pointer.
	Frozen bool `json:"-"`
}

// Section is one block of a message: a heading, text, and labelled fields.
type Section struct {
	Title  string
	Text   string
	Fields []Field
}

// Field is a labelled value.
type Field struct {
	Label string
	Value string
	// URL, when set, makes Value a link to it where the platform has links
	// (the console shows it after Value). It is for links the bot made
	// itself from a platform's answer, such as a thread's permalink: never
	// text someone typed or imported, which stays plain in Label and Value.
	// Adapters link only http and https URLs.
	URL string `json:",omitempty"`
}

// Button runs Command as if the person who pressed it had typed it.
type Button struct {
	Label   string
	Command string
	Primary bool
}

// Errorf builds an ephemeral error answer.
func Errorf(text string) *Message {
	return &Message{Text: text, Error: true}
}
