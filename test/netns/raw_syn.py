#!/usr/bin/env python3
# Sends one TCP SYN as a raw Ethernet frame and reports the answer, for test/netns/dsr.test.ts.
#   raw_syn.py IF DST_MAC SRC_IP DST_IP DPORT OPTION_BYTES
# Prints one JSON line: {"answered": bool, "flags": n, "ackOk": bool, "ipChecksumOk": bool,
# "tcpChecksumOk": bool, "ipHeader": n, "tcpHeader": n}. Checksums are verified here, with
# this file's own arithmetic, not pen's. Waits at most 3 s.
import json, os, random, socket, struct, sys, time

ifname, dst_mac, src_ip, dst_ip, dport, optlen = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s  # 0xffff when the data includes a correct checksum

def fix(b):
    return (~csum(b)) & 0xffff

src_mac = bytes.fromhex(open('/sys/class/net/%s/address' % ifname).read().strip().replace(':', ''))
dmac = bytes.fromhex(dst_mac.replace(':', ''))
sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
sport = random.randint(20000, 60000)
seq = random.randint(0, 0xffffffff)
opts = b''
if optlen >= 4:
    opts = struct.pack('!BBH', 2, 4, 1460)
opts += b'\x01' * (optlen - len(opts))
tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, (5 + optlen // 4) << 4, 0x02, 64240, 0, 0) + opts
tcp = tcp[:16] + struct.pack('!H', fix(sip + dip + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), random.randint(0, 0xffff), 0x4000, 64, 6, 0, sip, dip)
iph = iph[:10] + struct.pack('!H', fix(iph)) + iph[12:]
frame = dmac + src_mac + b'\x08\x00' + iph + tcp

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((ifname, 0))
s.settimeout(0.2)
s.send(frame)
result = {'answered': False}
deadline = time.time() + 3
while time.time() < deadline and not result['answered']:
    try:
        f = s.recv(65535)
    except socket.timeout:
        continue
    ip = f[14:]
    if len(ip) < 20 or ip[9] != 6 or ip[12:16] != dip or ip[16:20] != sip:
        continue
    ihl = (ip[0] & 15) * 4
    total = struct.unpack('!H', ip[2:4])[0]
    t = ip[ihl:total]
    if len(t) < 20 or struct.unpack('!HH', t[:4]) != (dport, sport):
        continue
    ack = struct.unpack('!I', t[8:12])[0]
    result = {
        'answered': True,
        'flags': t[13],
        'ackOk': ack == (seq + 1) & 0xffffffff,
        'ipChecksumOk': csum(ip[:ihl]) == 0xffff,
        'tcpChecksumOk': csum(ip[12:20] + struct.pack('!BBH', 0, 6, len(t)) + t) == 0xffff,
        'ipHeader': ihl,
        'tcpHeader': (t[12] >> 4) * 4,
    }
print(json.dumps(result))
