package probe

// Picture sizes from H.264 and HEVC sequence parameter sets (for
// transport streams, which carry no size of their own): the coded size
// less the cropping window, as ffprobe reports it.

// maxSPS bounds the bytes of a parameter set read.
const maxSPS = 1024

// h264Size reads an H.264 SPS (after its NAL header byte).
func h264Size(nal []byte) (w, h int, ok bool) {
	var buf [maxSPS]byte
	r := bitReader{b: unescapeRBSP(buf[:0], nal[:min(len(nal), maxSPS)])}
	profile := r.bits(8)
	r.skip(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint32(1)
	separate := uint32(0)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.ue()
		if chroma > 3 {
			return 0, 0, false
		}
		if chroma == 3 {
			separate = r.bit()
		}
		r.ue() // bit_depth_luma_minus8
		r.ue() // bit_depth_chroma_minus8
		r.skip(1)
		if r.bit() == 1 { // seq_scaling_matrix_present_flag
			n := 8
			if chroma == 3 {
				n = 12
			}
			for i := 0; i < n && !r.bad; i++ {
				if r.bit() == 1 {
					size := 16
					if i >= 6 {
						size = 64
					}
					last, next := int32(8), int32(8)
					for j := 0; j < size && !r.bad; j++ {
						if next != 0 {
							next = (last + r.se() + 256) % 256
						}
						if next != 0 {
							last = next
						}
					}
				}
			}
		}
	}
	r.ue() // log2_max_frame_num_minus4
	switch r.ue() {
	case 0:
		r.ue()
	case 1:
		r.skip(1)
		r.se()
		r.se()
		n := r.ue()
		if n > 255 {
			return 0, 0, false
		}
		for i := uint32(0); i < n && !r.bad; i++ {
			r.se()
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	wmb := int(r.ue()) + 1
	hmu := int(r.ue()) + 1
	frameMBsOnly := int(r.bit())
	if frameMBsOnly == 0 {
		r.skip(1)
	}
	r.skip(1) // direct_8x8_inference_flag
	w, h = wmb*16, (2-frameMBsOnly)*hmu*16
	if r.bit() == 1 { // frame_cropping_flag
		cl, cr, ct, cb := int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
		ux, uy := 1, 2-frameMBsOnly
		if chroma != 0 && separate == 0 {
			sw, sh := 2, 2
			switch chroma {
			case 2:
				sh = 1
			case 3:
				sw, sh = 1, 1
			}
			ux, uy = sw, sh*(2-frameMBsOnly)
		}
		w -= ux * (cl + cr)
		h -= uy * (ct + cb)
	}
	if r.bad || w <= 0 || h <= 0 || w > 1<<16 || h > 1<<16 {
		return 0, 0, false
	}
	return w, h, true
}

// hevcSize reads an HEVC SPS (after its two NAL header bytes).
func hevcSize(nal []byte) (w, h int, ok bool) {
	var buf [maxSPS]byte
	r := bitReader{b: unescapeRBSP(buf[:0], nal[:min(len(nal), maxSPS)])}
	r.skip(4) // sps_video_parameter_set_id
	maxSub := int(r.bits(3))
	r.skip(1)  // temporal_id_nesting
	r.skip(88) // general profile: space, tier, idc, compatibility, flags
	r.skip(8)  // general_level_idc
	profilePresent := make([]bool, maxSub)
	levelPresent := make([]bool, maxSub)
	for i := range maxSub {
		profilePresent[i] = r.bit() == 1
		levelPresent[i] = r.bit() == 1
	}
	if maxSub > 0 {
		r.skip(2 * (8 - maxSub))
	}
	for i := range maxSub {
		if profilePresent[i] {
			r.skip(88)
		}
		if levelPresent[i] {
			r.skip(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	chroma := r.ue()
	if chroma > 3 {
		return 0, 0, false
	}
	separate := uint32(0)
	if chroma == 3 {
		separate = r.bit()
	}
	w, h = int(r.ue()), int(r.ue())
	if r.bit() == 1 { // conformance_window_flag
		cl, cr, ct, cb := int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
		sw, sh := 1, 1
		if separate == 0 {
			switch chroma {
			case 1:
				sw, sh = 2, 2
			case 2:
				sw = 2
			}
		}
		w -= sw * (cl + cr)
		h -= sh * (ct + cb)
	}
	if r.bad || w <= 0 || h <= 0 || w > 1<<16 || h > 1<<16 {
		return 0, 0, false
	}
	return w, h, true
}
