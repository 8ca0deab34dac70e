package store

import "testing"

// typicalDetails is a typical video's details as probe's MarshalBinary
// encodes them (34 bytes: matroska, 1:52:30, 1920x1080, h264, aac, 5.1,
// 48 kHz, 8 Mb/s).
func typicalDetails(testing.TB) []byte {
	return []byte("\x01\x0a\x08matroska\x10\xc0\xba\x9e\xc8\x32\x18\x80\x1e\x20\xb0\x10\x2a\x04h264\x32\x03aac\x38\x80\xa4\xe8\x03\x40\x0c\x48\x80\xee\x05")
}

// readDetails reads the details of rel for the restart benchmark.
func readDetails(s *Store, rel string, st Stamp) bool {
	_, ok := s.DetailsRaw("Videos", rel, st)
	return ok
}
