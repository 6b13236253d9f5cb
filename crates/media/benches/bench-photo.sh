#!/usr/bin/env bash
# Makes the benchmark's 12 MP camera JPEG: a lossless 4000x3000 crop of the 5640x3172 Sony RX100 IV
# photograph in Debian's mate-backgrounds (re-written as baseline, as phone cameras write it), tagged
# with EXIF orientation 6, a capture time and GPS like a phone photo held upright.
#   needs: apt-get install mate-backgrounds libjpeg-turbo-progs libimage-exiftool-perl
#   usage: crates/media/benches/bench-photo.sh OUT.jpg
set -euo pipefail
out=${1:?usage: bench-photo.sh OUT.jpg}
src=/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg
# Offsets are multiples of the 16 px MCU so the crop is exact and lossless.
jpegtran -crop 4000x3000+816+80 -copy all -optimize -outfile "$out" "$src"
exiftool -q -q -overwrite_original -n -Orientation=6 \
  -DateTimeOriginal='2026:11:27 14:05:09' -OffsetTimeOriginal='+08:00' \
  -GPSLatitude=39.9042 -GPSLatitudeRef=N -GPSLongitude=116.4074 -GPSLongitudeRef=E "$out"
echo "$out"
