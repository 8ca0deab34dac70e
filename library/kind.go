package library

import (
	"path"
	"strings"
)

// Kind is what a file holds, as told by its name's extension.
type Kind uint8

// The kinds. The package documentation lists the extensions of each.
const (
	Other Kind = iota // anything else: subtitles, .nfo, artwork sidecars, ...
	Video
	Audio
	Image
	numKinds
)

var kindNames = [numKinds]string{Other: "other", Video: "video", Audio: "audio", Image: "image"}

// String returns "video", "audio", "image" or "other".
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "other"
}

// MarshalText encodes k as its String, so JSON shows "video" and not 1.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes what MarshalText encodes; an unknown name is
// Other.
func (k *Kind) UnmarshalText(b []byte) error {
	*k = Other
	for i, name := range kindNames {
		if name == string(b) {
			*k = Kind(i)
		}
	}
	return nil
}

// extensions maps a lower-case extension, without its dot, to its kind. The
// table in doc.go lists the same extensions; TestKindTableDocumented keeps
// the two in step.
var extensions = map[string]Kind{}

func init() {
	for k, exts := range map[Kind]string{
		Video: "3g2 3gp asf avi divx f4v flv m2t m2ts m2v m4v mk3d mkv mov mp4 mpe mpeg mpg mts ogv qt rm rmvb ts vob webm wmv",
		Audio: "aac ac3 aif aifc aiff alac ape dff dsf dts flac m4a m4b mka mp2 mp3 mpc oga ogg opus wav wma wv",
		Image: "arw avif bmp cr2 cr3 dng gif heic heif jpeg jpg jxl nef orf png raf rw2 tif tiff webp",
	} {
		for _, e := range strings.Fields(exts) {
			extensions[e] = k
		}
	}
}

// KindOf returns the kind of the file with the given name, by its extension
// without regard to case. Names without a known extension are Other.
func KindOf(name string) Kind {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 6 {
		return Other
	}
	ext = ext[1:]
	if k, ok := extensions[ext]; ok {
		return k
	}
	return extensions[strings.ToLower(ext)]
}
