package monitor

import "time"

// appendTimeUTC appends t in UTC as RFC 3339 with nanoseconds and trailing
// zeros trimmed, byte for byte what t.UTC().AppendFormat(b,
// time.RFC3339Nano) gives for years 0-9999. Done by hand because the time
// package's formatter links the time-zone database loader into the
// monitor binary.
func appendTimeUTC(b []byte, t time.Time) []byte {
	secs := t.Unix()
	days := secs / 86400
	if secs%86400 < 0 {
		days--
	}
	sod := int(secs - days*86400)
	y, m, d := civilFromDays(days)
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, m, 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, sod/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, sod/60%60, 2)
	b = append(b, ':')
	b = appendDigits(b, sod%60, 2)
	if ns := t.Nanosecond(); ns != 0 {
		b = append(b, '.')
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = appendDigits(b, ns, digits)
	}
	return append(b, 'Z')
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's days_from_civil, inverted).
func civilFromDays(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March first
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if mp >= 10 {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// appendDigits appends v zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}
