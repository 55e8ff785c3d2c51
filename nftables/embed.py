#!/usr/bin/env python3
"""Turn a text file into a C header holding it as one NUL-terminated array.

Usage: embed.py INPUT OUTPUT NAME  ->  static const char NAME[] = {...};
Used by meson to build nftables/group.nft.in into gatewayd, so the rules
exist once, in the readable template.
"""
import sys


def main():
    src, dst, name = sys.argv[1:4]
    with open(src, encoding='utf-8') as f:
        text = f.read()
    # A byte array, not a string literal: -pedantic limits literals to
    # 4095 characters.
    out = ['/* Generated from %s by nftables/embed.py; do not edit. */'
           % src.rsplit('/', 1)[-1],
           'static const char %s[] = {' % name]
    for line in text.splitlines(keepends=True):
        data = line.encode('utf-8')
        for i in range(0, len(data), 16):
            out.append('\t' + ' '.join('0x%02x,' % c for c in data[i:i + 16]))
    out.append('\t0x00,')
    out.append('};')
    with open(dst, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
