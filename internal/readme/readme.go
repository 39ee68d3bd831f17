// Package readme reads the curl examples of a README, so that tests send
// them as they are written.
package readme

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// Curl is one curl command of a README.
type Curl struct {
	Method string      // -X, else POST when it sends a body (-d or -F), else GET
	URL    string      // as written, e.g. http://127.0.0.1:8080/v1/customers
	Header http.Header // its -H headers, $VARIABLES as written
	Body   string      // its -d body, as written ("" for none)
	Form   []string    // its -F parts, as written (name=value, name=@file, …;type=…)
}

// Curls returns the curl commands of md's ```sh code blocks, in order. A
// line ending in a backslash continues on the next; words are read as a
// shell reads them (single quotes, double quotes with \" \\ \$ escapes),
// variables left unexpanded. A curl option it does not know is an error, so
// that an example is never sent other than as written.
func Curls(md []byte) ([]Curl, error) {
	var out []Curl
	sc := bufio.NewScanner(bytes.NewReader(md))
	inSh, cmd := false, ""
	for sc.Scan() {
		line := sc.Text()
		switch t := strings.TrimSpace(line); {
		case strings.HasPrefix(t, "```"):
			inSh = !inSh && strings.TrimPrefix(t, "```") == "sh"
			continue
		case !inSh:
			continue
		case cmd == "" && !strings.HasPrefix(t, "curl "):
			continue
		}
		cont := strings.HasSuffix(line, `\`)
		cmd += strings.TrimSuffix(line, `\`) + " "
		if cont {
			continue
		}
		c, err := parse(cmd)
		if err != nil {
			return nil, fmt.Errorf("readme.Curls: %q: %w", strings.TrimSpace(cmd), err)
		}
		out = append(out, c)
		cmd = ""
	}
	return out, sc.Err()
}

func parse(cmd string) (Curl, error) {
	words, err := split(cmd)
	if err != nil {
		return Curl{}, err
	}
	c := Curl{Header: http.Header{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		arg := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s without its value", w)
			}
			i++
			return words[i], nil
		}
		var v string
		switch w {
		case "-s", "--silent":
			continue
		case "-H", "-d", "-F", "-X":
			if v, err = arg(); err != nil {
				return Curl{}, err
			}
		default:
			if strings.HasPrefix(w, "-") || c.URL != "" {
				return Curl{}, fmt.Errorf("unknown argument %q", w)
			}
			c.URL = w
			continue
		}
		switch w {
		case "-H":
			name, value, ok := strings.Cut(v, ":")
			if !ok {
				return Curl{}, fmt.Errorf("header %q is not name: value", v)
			}
			c.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		case "-d":
			c.Body = v
		case "-F":
			c.Form = append(c.Form, v)
		case "-X":
			c.Method = v
		}
	}
	switch {
	case c.URL == "":
		return Curl{}, fmt.Errorf("no URL")
	case c.Method != "":
	case c.Body != "" || len(c.Form) > 0:
		c.Method = http.MethodPost
	default:
		c.Method = http.MethodGet
	}
	return c, nil
}

// split cuts a command into words as a shell does, without expanding
// anything.
func split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`+"`", rs[i+1]):
				i++
				w.WriteRune(rs[i])
			default:
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}
