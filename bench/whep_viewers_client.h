// The viewers of the WHEP viewers bench: webrtcbin peers in a process of
// their own, talking WHEP over HTTP to the server under test. Driven by lines
// on stdin:
//   add N     connect N more viewers (POST an offer each, then trickle)
//   report    answer on stdout "frames C1 C2 ..." - each viewer's complete
//             frames so far
// It exits when stdin closes.
//
// A frame counts as received when its last RTP packet (the marker bit) comes
// out of the viewer's webrtcbin - decrypted, through the jitter buffer - with
// no sequence gap since the previous frame's last packet. Frames are not
// depayloaded or decoded, so dozens of viewers fit beside the server.
#pragma once

#include <string>

namespace relais::bench {

// Runs the viewers of the stream at `whep_url` (e.g. http://127.0.0.1:8080/whep/bench).
int run_whep_viewers(const std::string& whep_url);

}  // namespace relais::bench
