#!/bin/bash
# t-nfq-dns: guests' DNS through gatewayd.  An allowed name resolves (UDP
# and TCP) and is logged with its answers; a denied one is refused and
# logged; a long label and a stream of unique subdomains are refused; the
# HTTPS record advertising ech/h3 is removed while a plain one stays.
. "$(dirname "$0")/lib.sh"
# Lines of guest 1, a VM on Slicer's map, carry its name and host group;
# guest 2's, on no map, none.
. "$T_LIB_DIR/lib-nfq.sh"

NFQ_SLICER=1
nfq_up
gw=${GUEST_GW[1]}

out=$(nfq_tool dns "$gw" echo.test A)
log "echo.test: $out"
case $out in "rcode=NOERROR n=1 addrs=$INET_ECHO_IP "*) ;; *) fail "echo.test: $out" ;; esac
out=$(nfq_tool dns "$gw" echo.test A --tcp)
case $out in "rcode=NOERROR n=1 addrs=$INET_ECHO_IP "*) ;; *) fail "echo.test over TCP: $out" ;; esac
audit_wait kind=dns group="$NFQ_GROUP" client="${GUEST_IP[1]}" \
    proto=dns/udp host=echo.test qtype=A answers="NOERROR $INET_ECHO_IP" \
    verdict=allow rule=default vm=agents-1 vm_group=agents
audit_wait proto=dns/tcp host=echo.test verdict=allow vm=agents-1

out=$(nfq_tool dns "$gw" www.blocked.test A)
case $out in "rcode=REFUSED "*) ;; *) fail "blocked name: $out" ;; esac
audit_wait host=www.blocked.test qtype=A verdict=refused \
    rule="deny .blocked.test"
assert_no_match "$DNS_LOG" "blocked.test" "the upstream saw a refused name"

out=$(nfq_tool dns "$gw" "$(printf 'x%.0s' $(seq 50)).example.com" A)
case $out in "rcode=REFUSED "*) ;; *) fail "long label: $out" ;; esac
audit_wait verdict=refused rule=exfil-long-label

out=$(nfq_tool dns "$gw" no-such-name.test A)
case $out in "rcode=NXDOMAIN "*) ;; *) fail "upstream NXDOMAIN: $out" ;; esac

# 40 unique subdomains of one zone: the first 20 pass, the rest refused.
out=$(nfq_tool dns-burst "$gw" leak.example 40)
log "exfiltration-shaped stream: $out"
case $out in *"REFUSED=20"*) ;; *) fail "unique-subdomain guard: $out" ;; esac
audit_wait host=a39.leak.example verdict=refused \
    rule=exfil-unique-subdomains
# ... per guest: the other guest is not affected.
out=$(T_GUEST=2 nfq_tool dns "${GUEST_GW[2]}" a1.leak.example A)
case $out in "rcode=NXDOMAIN "*) ;; *) fail "guest 2 after guest 1's stream: $out" ;; esac
audit_wait client="${GUEST_IP[2]}" host=a1.leak.example '!vm' '!vm_group' '!tags'
assert_eq 0 "$(audit_count client="${GUEST_IP[2]}" vm=agents-1)" \
    "guest 2's DNS lines named as guest 1's VM"

out=$(nfq_tool dns "$gw" example.com HTTPS)
log "example.com HTTPS: $out"
case $out in *"https=0 ech=0 h3=0"*) ;; *) fail "HTTPS with ech/h3 not removed: $out" ;; esac
audit_wait host=example.com qtype=HTTPS answers="NOERROR svcb-dropped=1"
out=$(nfq_tool dns "$gw" other.test HTTPS)
case $out in *"https=1 ech=0 h3=0"*) ;; *) fail "plain HTTPS record lost: $out" ;; esac
log "audit lines: $(audit_count kind=dns) DNS queries"
