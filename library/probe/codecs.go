package probe

import "fmt"

// Codec names are ffprobe's (libavcodec's codec names), so that a file's
// details read the same whichever tool made them.

// mp4Codecs maps ISO/QuickTime sample entry types to codecs; "mp4a" and
// "mp4v" are decided by their esds.
var mp4Codecs = map[string]string{
	"avc1": "h264", "avc2": "h264", "avc3": "h264", "avc4": "h264",
	"hvc1": "hevc", "hev1": "hevc", "dvh1": "hevc", "dvhe": "hevc",
	"vvc1": "vvc", "vvi1": "vvc",
	"av01": "av1", "vp08": "vp8", "vp09": "vp9",
	"mp4v": "mpeg4", "s263": "h263", "h263": "h263", "H263": "h263",
	"jpeg": "mjpeg", "mjpa": "mjpeg", "mjpb": "mjpeg", "AVDJ": "mjpeg",
	"mp2v": "mpeg2video", "m2v1": "mpeg2video", "mpg2": "mpeg2video",
	"xdv2": "mpeg2video", "xdv3": "mpeg2video", "xdv5": "mpeg2video", "xdvc": "mpeg2video",
	"xd54": "mpeg2video", "xd55": "mpeg2video", "xd5c": "mpeg2video", "xd5f": "mpeg2video",
	"hdv2": "mpeg2video", "hdv3": "mpeg2video", "hdv5": "mpeg2video", "hdv6": "mpeg2video",
	"mp1v": "mpeg1video", "m1v1": "mpeg1video",
	"apch": "prores", "apcn": "prores", "apcs": "prores", "apco": "prores", "ap4h": "prores", "ap4x": "prores",
	"SVQ1": "svq1", "SVQ3": "svq3", "cvid": "cinepak", "rle ": "qtrle", "png ": "png",
	"dvc ": "dvvideo", "dvcp": "dvvideo", "dv5n": "dvvideo", "dv5p": "dvvideo", "dvpp": "dvvideo",
	"raw ": "rawvideo", "2vuy": "rawvideo", "yuv2": "rawvideo", "v210": "v210",
	"vc-1": "vc1", "drac": "dirac", "AVdn": "dnxhd", "AVdh": "dnxhd",
	"mp4a": "aac", "ac-3": "ac3", "sac3": "ac3", "ec-3": "eac3", "ac-4": "ac4",
	"Opus": "opus", "fLaC": "flac", "alac": "alac", ".mp3": "mp3", "mp3 ": "mp3",
	"samr": "amr_nb", "sawb": "amr_wb", "sevc": "evrc", "sqcp": "qcelp",
	"dtsc": "dts", "dtsh": "dts", "dtsl": "dts", "dtse": "dts", "DTS ": "dts",
	"mlpa": "truehd", "ima4": "adpcm_ima_qt", "MAC3": "mace3", "MAC6": "mace6",
	"sowt": "pcm_s16le", "twos": "pcm_s16be", "NONE": "pcm_s16be",
	"in24": "pcm_s24be", "in32": "pcm_s32be", "fl32": "pcm_f32be", "fl64": "pcm_f64be",
	"ulaw": "pcm_mulaw", "alaw": "pcm_alaw", "mha1": "mpegh_3d_audio", "mhm1": "mpegh_3d_audio",
	"spex": "speex", "nmos": "nellymoser", "QDM2": "qdm2", "QDMC": "qdmc",
}

// isVideoCodec reports whether a codec is a video codec (for tracks whose
// kind their container leaves unsaid).
func isVideoCodec(name string) bool {
	switch name {
	case "h264", "hevc", "vvc", "av1", "vp8", "vp9", "mpeg4", "h263", "mjpeg",
		"mpeg2video", "mpeg1video", "prores", "svq1", "svq3", "cinepak", "qtrle",
		"png", "dvvideo", "rawvideo", "v210", "vc1", "dirac", "dnxhd", "theora",
		"msmpeg4v3", "msmpeg4v2", "msmpeg4v1", "wmv1", "wmv2", "wmv3", "ffv1",
		"huffyuv", "vp6f", "flv1", "rv40", "rv30", "hq_hqa":
		return true
	}
	return false
}

// mp4ObjectTypes maps MPEG-4 systems objectTypeIndication values (the
// esds of mp4a/mp4v entries) to codecs, as ffmpeg's ff_mp4_obj_type does.
var mp4ObjectTypes = map[byte]string{
	0x08: "mov_text", 0x20: "mpeg4", 0x21: "h264", 0x23: "hevc",
	0x40: "aac", 0x60: "mpeg2video", 0x61: "mpeg2video", 0x62: "mpeg2video",
	0x63: "mpeg2video", 0x64: "mpeg2video", 0x65: "mpeg2video",
	0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6A: "mpeg1video",
	0x6B: "mp3", 0x6C: "mjpeg", 0x6D: "png", 0x6E: "jpeg2000",
	0xA3: "vc1", 0xA4: "dirac", 0xA5: "ac3", 0xA6: "eac3", 0xA9: "dts",
	0xAD: "opus", 0xB1: "vp9", 0xC1: "flac", 0xD1: "evrc", 0xDD: "vorbis",
	0xE0: "vobsub", 0xE1: "qcelp",
}

// matroskaCodecs maps Matroska CodecIDs to codecs; PCM and the VfW/ACM
// wrappers are decided in code.
var matroskaCodecs = map[string]string{
	"V_MPEG4/ISO/AVC": "h264", "V_MPEGH/ISO/HEVC": "hevc", "V_MPEGI/ISO/VVC": "vvc",
	"V_AV1": "av1", "V_VP8": "vp8", "V_VP9": "vp9",
	"V_MPEG4/ISO/ASP": "mpeg4", "V_MPEG4/ISO/SP": "mpeg4", "V_MPEG4/ISO/AP": "mpeg4",
	"V_MPEG4/MS/V3": "msmpeg4v3", "V_MPEG2": "mpeg2video", "V_MPEG1": "mpeg1video",
	"V_THEORA": "theora", "V_MJPEG": "mjpeg", "V_PRORES": "prores", "V_DIRAC": "dirac",
	"V_REAL/RV10": "rv10", "V_REAL/RV20": "rv20", "V_REAL/RV30": "rv30", "V_REAL/RV40": "rv40",
	"V_QUICKTIME": "", "V_UNCOMPRESSED": "rawvideo", "V_FFV1": "ffv1",
	"A_AAC": "aac", "A_AAC/MPEG2/LC": "aac", "A_AAC/MPEG2/MAIN": "aac", "A_AAC/MPEG2/LC/SBR": "aac",
	"A_AAC/MPEG2/SSR": "aac", "A_AAC/MPEG4/LC": "aac", "A_AAC/MPEG4/MAIN": "aac",
	"A_AAC/MPEG4/LC/SBR": "aac", "A_AAC/MPEG4/SSR": "aac", "A_AAC/MPEG4/LTP": "aac",
	"A_MPEG/L3": "mp3", "A_MPEG/L2": "mp2", "A_MPEG/L1": "mp1",
	"A_AC3": "ac3", "A_AC3/BSID9": "ac3", "A_AC3/BSID10": "ac3", "A_EAC3": "eac3",
	"A_DTS": "dts", "A_DTS/EXPRESS": "dts", "A_DTS/LOSSLESS": "dts",
	"A_TRUEHD": "truehd", "A_MLP": "mlp", "A_FLAC": "flac", "A_OPUS": "opus", "A_VORBIS": "vorbis",
	"A_ALAC": "alac", "A_WAVPACK4": "wavpack", "A_TTA1": "tta", "A_REAL/COOK": "cook",
	"A_REAL/ATRC": "atrac3", "A_REAL/28_8": "ra_288", "A_REAL/14_4": "ra_144",
	"A_QUICKTIME/QDM2": "qdm2", "A_QUICKTIME/QDMC": "qdmc",
}

// fourccCodecs maps AVI/VfW compression FOURCCs (BITMAPINFOHEADER
// biCompression) to codecs, as ffmpeg's ff_codec_bmp_tags does for the
// common ones. Lookups are exact first, then upper case.
var fourccCodecs = map[string]string{
	"H264": "h264", "X264": "h264", "AVC1": "h264", "DAVC": "h264", "SMV2": "h264",
	"VSSH": "h264", "Q264": "h264", "V264": "h264", "GAVC": "h264", "UMSV": "h264",
	"HEVC": "hevc", "H265": "hevc", "X265": "hevc", "HVC1": "hevc", "HEV1": "hevc",
	"FMP4": "mpeg4", "DIVX": "mpeg4", "DX50": "mpeg4", "XVID": "mpeg4", "MP4S": "mpeg4",
	"M4S2": "mpeg4", "MP4V": "mpeg4", "UMP4": "mpeg4", "WV1F": "mpeg4", "SEDG": "mpeg4",
	"RMP4": "mpeg4", "3IV2": "mpeg4", "WAWV": "mpeg4", "FFDS": "mpeg4", "FVFW": "mpeg4",
	"DCOD": "mpeg4", "MVXM": "mpeg4", "PM4V": "mpeg4", "SMP4": "mpeg4", "DXGM": "mpeg4",
	"VIDM": "mpeg4", "M4T3": "mpeg4", "GEOX": "mpeg4", "G264": "h264", "HDX4": "mpeg4",
	"DM4V": "mpeg4", "DMK2": "mpeg4", "DIGI": "mpeg4", "INMC": "mpeg4", "EPHV": "mpeg4",
	"EM4A": "mpeg4", "M4CC": "mpeg4", "SN40": "mpeg4", "VSPX": "mpeg4", "ULDX": "mpeg4",
	"GEOV": "mpeg4", "SIPP": "mpeg4", "XVIX": "mpeg4", "DREX": "mpeg4", "QMP4": "mpeg4", "PLV1": "mpeg4",
	"GLV4": "mpeg4", "GMP4": "mpeg4", "MNM4": "mpeg4", "GTM4": "mpeg4",
	"MP43": "msmpeg4v3", "DIV3": "msmpeg4v3", "MPG3": "msmpeg4v3", "DIV5": "msmpeg4v3",
	"DIV6": "msmpeg4v3", "DIV4": "msmpeg4v3", "DVX3": "msmpeg4v3", "AP41": "msmpeg4v3",
	"COL1": "msmpeg4v3", "COL0": "msmpeg4v3", "MP42": "msmpeg4v2", "DIV2": "msmpeg4v2",
	"MPG4": "msmpeg4v1", "MP41": "msmpeg4v1", "WMV1": "wmv1", "WMV2": "wmv2", "WMV3": "wmv3",
	"WVC1": "vc1", "WMVA": "vc1", "MJPG": "mjpeg", "AVRN": "mjpeg", "LJPG": "mjpeg", "JPGL": "mjpeg",
	"DMB1": "mjpeg", "MJLS": "jpegls", "JPEG": "mjpeg", "MPG1": "mpeg1video", "MPG2": "mpeg2video",
	"MPEG": "mpeg2video", "PIM1": "mpeg2video", "PIM2": "mpeg2video", "VCR2": "mpeg2video",
	"MMES": "mpeg2video", "LMP2": "mpeg2video", "SLIF": "mpeg2video", "EM2V": "mpeg2video",
	"M701": "mpeg2video", "M702": "mpeg2video", "M703": "mpeg2video", "M704": "mpeg2video", "M705": "mpeg2video",
	"H263": "h263", "U263": "h263", "S263": "h263", "L263": "h263", "M263": "h263", "X263": "h263",
	"VP80": "vp8", "VP90": "vp9", "AV01": "av1", "FFV1": "ffv1", "HFYU": "huffyuv", "FFVH": "ffvhuff",
	"DVSD": "dvvideo", "DVHD": "dvvideo", "DV25": "dvvideo", "DV50": "dvvideo", "CDVC": "dvvideo",
	"CVID": "cinepak", "MSVC": "msvideo1", "CRAM": "msvideo1", "WHAM": "msvideo1",
	"VP60": "vp6", "VP61": "vp6", "VP62": "vp6", "VP6F": "vp6f", "VP6A": "vp6a", "FLV1": "flv1",
	"THEO": "theora", "TSCC": "tscc", "IV50": "indeo5", "IV41": "indeo4", "IV31": "indeo3", "IV32": "indeo3",
	"MRLE": "msrle", "DRAC": "dirac", "APCH": "prores", "APCN": "prores", "UYVY": "rawvideo",
	"YUY2": "rawvideo", "YV12": "rawvideo", "I420": "rawvideo", "IYUV": "rawvideo", "Y800": "rawvideo",
	"MAGY": "magicyuv", "UTVD": "utvideo", "ULRG": "utvideo", "ULY0": "utvideo", "ULY2": "utvideo",
	"CFHD": "cfhd", "DXSA": "dxa", "AVDJ": "mjpeg", "HQX ": "hqx", "SNOW": "snow",
}

// videoFourCC returns the codec of an AVI/VfW FOURCC; raw (0, "DIB ",
// "RAW ") is rawvideo.
func videoFourCC(b []byte) string {
	if len(b) < 4 {
		return ""
	}
	if be32(b) == 0 || string(b) == "DIB " || string(b) == "RAW " || string(b) == "RGB " || be32(b) == 3 {
		return "rawvideo"
	}
	up := make([]byte, 4)
	for i, c := range b[:4] {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return fourccCodecs[string(up)]
}

// waveCodec returns the codec of a WAVEFORMATEX format tag (and, for PCM,
// its bits per sample), as ffmpeg's ff_codec_wav_tags does for the common
// ones. Plain PCM of 8 bits is unsigned, else signed little-endian.
func waveCodec(tag uint16, bits int) string {
	switch tag {
	case 0x0001:
		switch {
		case bits == 8:
			return "pcm_u8"
		case bits > 0 && bits <= 64 && bits%8 == 0:
			return fmt.Sprintf("pcm_s%dle", bits)
		}
		return ""
	case 0x0003:
		if bits == 64 {
			return "pcm_f64le"
		}
		return "pcm_f32le"
	}
	return waveTags[tag]
}

var waveTags = map[uint16]string{
	0x0002: "adpcm_ms", 0x0006: "pcm_alaw", 0x0007: "pcm_mulaw", 0x000A: "wmavoice",
	0x0010: "adpcm_ima_oki", 0x0011: "adpcm_ima_wav", 0x0017: "adpcm_ima_oki",
	0x0020: "adpcm_yamaha", 0x0022: "truespeech", 0x0031: "gsm_ms", 0x0032: "gsm_ms",
	0x0038: "amr_nb", 0x0040: "g723_1", 0x0042: "g723_1", 0x0045: "adpcm_g726",
	0x0050: "mp2", 0x0055: "mp3", 0x0057: "amr_nb", 0x0058: "amr_wb", 0x0061: "adpcm_ima_dk4",
	0x0062: "adpcm_ima_dk3", 0x0064: "adpcm_g726", 0x0069: "adpcm_ima_wav", 0x0075: "metasound",
	0x0083: "g729", 0x00FF: "aac", 0x0111: "g723_1", 0x0130: "sipr", 0x0160: "wmav1",
	0x0161: "wmav2", 0x0162: "wmapro", 0x0163: "wmalossless", 0x0200: "adpcm_ct",
	0x0270: "atrac3", 0x028F: "adpcm_g722", 0x0401: "imc", 0x0402: "iac", 0x1500: "gsm_ms",
	0x1501: "truespeech", 0x1600: "aac", 0x1602: "aac_latm", 0x2000: "ac3", 0x2001: "dts",
	0x2048: "sonic", 0x6C75: "pcm_mulaw", 0x706D: "aac", 0x4143: "aac", 0x594A: "xan_dpcm",
	0x729A: "g729", 0xA100: "g723_1", 0xA106: "aac", 0xA109: "speex", 0xF1AC: "flac",
	0x5346: "adpcm_swf", 0x566F: "vorbis", 0x674F: "vorbis", 0x6750: "vorbis", 0x6751: "vorbis",
	0x676F: "vorbis", 0x6770: "vorbis", 0x6771: "vorbis", 0x704F: "opus",
}
