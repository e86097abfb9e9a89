package monitor

// A minimal JSON codec for the few flat objects this package exchanges
// (monitor.json, status.json, the sync message, the attach request).
// encoding/json and fmt would pull reflect into the monitor binary and
// cost it about half a megabyte of resident memory; these objects only
// ever hold strings, string arrays, integers, booleans and times. The
// output is plain JSON that encoding/json reads back (the tests check).

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonObj builds one JSON object.
type jsonObj struct {
	b []byte
}

func (o *jsonObj) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObj) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *jsonObj) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonObj) strs(k string, v []string) {
	o.key(k)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// time writes t as RFC 3339 with nanoseconds, in UTC.
func (o *jsonObj) time(k string, t time.Time) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = appendTimeUTC(o.b, t)
	o.b = append(o.b, '"')
}

func (o *jsonObj) bytes() []byte {
	if len(o.b) == 0 {
		return []byte("{}")
	}
	return append(o.b, '}')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
	}
	return append(b, '"')
}

var errJSONSyntax = errors.New("invalid JSON")

// jsonDec reads one JSON value at a time from s.
type jsonDec struct {
	s []byte
	i int
}

// decodeJSONObject calls field for each member of the object in data;
// field must consume the value with one of d's value methods (d.skip for
// members it does not know).
func decodeJSONObject(data []byte, field func(key string, d *jsonDec) error) error {
	d := &jsonDec{s: data}
	if !d.consume('{') {
		return errJSONSyntax
	}
	if d.consume('}') {
		return d.end()
	}
	for {
		d.ws()
		key, err := d.str()
		if err != nil {
			return err
		}
		if !d.consume(':') {
			return errJSONSyntax
		}
		if err := field(key, d); err != nil {
			return errors.New("JSON field " + strconv.Quote(key) + ": " + err.Error())
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return d.end()
		}
		return errJSONSyntax
	}
}

func (d *jsonDec) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (d *jsonDec) consume(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonDec) end() error {
	d.ws()
	if d.i != len(d.s) {
		return errJSONSyntax
	}
	return nil
}

func (d *jsonDec) literal(word string) bool {
	d.ws()
	if len(d.s)-d.i >= len(word) && string(d.s[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
}

// str reads a string (null reads as "").
func (d *jsonDec) str() (string, error) {
	if d.literal("null") {
		return "", nil
	}
	if !d.consume('"') {
		return "", errJSONSyntax
	}
	var out []byte
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), nil
		case c == '\\':
			if d.i+1 >= len(d.s) {
				return "", errJSONSyntax
			}
			e := d.s[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", errJSONSyntax
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
						d.i += 2
						if lo, ok := d.hex4(); ok {
							r2 = lo
						}
					}
					r = utf16.DecodeRune(r, r2)
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", errJSONSyntax
			}
		case c < 0x20:
			return "", errJSONSyntax
		default:
			out = append(out, c)
			d.i++
		}
	}
	return "", errJSONSyntax
}

func (d *jsonDec) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.s[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(v), true
}

// number returns the raw text of a number.
func (d *jsonDec) number() (string, error) {
	d.ws()
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return "", errJSONSyntax
	}
	return string(d.s[start:d.i]), nil
}

// int reads an integer that fits in bits bits (null reads as 0).
func (d *jsonDec) int(bits int) (int64, error) {
	if d.literal("null") {
		return 0, nil
	}
	t, err := d.number()
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(t, 10, bits)
}

func (d *jsonDec) uint16() (uint16, error) {
	v, err := d.int(17)
	if err == nil && (v < 0 || v > 0xffff) {
		err = errors.New("out of range")
	}
	return uint16(v), err
}

func (d *jsonDec) boolean() (bool, error) {
	switch {
	case d.literal("true"):
		return true, nil
	case d.literal("false"), d.literal("null"):
		return false, nil
	}
	return false, errJSONSyntax
}

// strs reads an array of strings (null reads as nil).
func (d *jsonDec) strs() ([]string, error) {
	if d.literal("null") {
		return nil, nil
	}
	if !d.consume('[') {
		return nil, errJSONSyntax
	}
	out := []string{}
	if d.consume(']') {
		return out, nil
	}
	for {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return out, nil
		}
		return nil, errJSONSyntax
	}
}

// time reads an RFC 3339 time string.
func (d *jsonDec) time() (time.Time, error) {
	s, err := d.str()
	if err != nil || s == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, s)
}

// skip consumes any value (for members this package does not know).
func (d *jsonDec) skip() error {
	d.ws()
	if d.i >= len(d.s) {
		return errJSONSyntax
	}
	switch c := d.s[d.i]; {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		d.i++
		if d.consume(closer) {
			return nil
		}
		for {
			if c == '{' {
				if _, err := d.str(); err != nil {
					return err
				}
				if !d.consume(':') {
					return errJSONSyntax
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
			if d.consume(',') {
				continue
			}
			if d.consume(closer) {
				return nil
			}
			return errJSONSyntax
		}
	case d.literal("true"), d.literal("false"), d.literal("null"):
		return nil
	default:
		_, err := d.number()
		return err
	}
}
