#!/usr/bin/env python3
"""Draws Hush's toolbar icons (public/icon/N.png): an indigo disc with a white
'H' and a small shield notch. Pure Python (zlib), 4x supersampled."""
import struct, zlib, os

def png(path, size):
    ss = 4
    S = size * ss
    px = []
    cx = cy = (S - 1) / 2
    r = S * 0.48
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    X, Y = x * ss + sx, y * ss + sy
                    inside = (X - cx) ** 2 + (Y - cy) ** 2 <= r * r
                    if not inside:
                        continue
                    u, v = X / S, Y / S
                    # 'H': two bars and a crossbar
                    h = (0.30 <= u <= 0.40 or 0.60 <= u <= 0.70) and 0.26 <= v <= 0.74
                    h = h or (0.30 <= u <= 0.70 and 0.46 <= v <= 0.55)
                    if h:
                        c = (255, 255, 255)
                    else:
                        t = v
                        c = (int(67 + 30 * t), int(56 + 10 * t), int(202 - 40 * t))
                    acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            n = ss * ss
            a = acc[3] // n
            if acc[3]:
                k = acc[3] // 255
                row += bytes([acc[0] // k, acc[1] // k, acc[2] // k, a])
            else:
                row += bytes([0, 0, 0, 0])
        px.append(bytes(row))
    raw = b''.join(px)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0))
    data += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(data)

out = os.path.join(os.path.dirname(__file__), '..', 'public', 'icon')
os.makedirs(out, exist_ok=True)
for s in (16, 32, 48, 96, 128):
    png(os.path.join(out, f'{s}.png'), s)
print('icons written')
