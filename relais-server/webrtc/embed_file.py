#!/usr/bin/env python3
"""Writes a C++ header that holds a text file as a string constant."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src, encoding="utf-8").read()
delim = "relais_embed"
assert ")" + delim + '"' not in text
with open(out, "w", encoding="utf-8") as f:
    f.write("// Generated from %s by embed_file.py; do not edit.\n#pragma once\n\n" % src.split("/")[-1])
    f.write("namespace relais::webrtc {\n")
    f.write('inline constexpr char %s[] = R"%s(%s)%s";\n' % (name, delim, text, delim))
    f.write("}  // namespace relais::webrtc\n")
