/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP options of the easd bare-metal port: NO_SYS (one super-loop, no threads), raw TCP API
 * only, IPv4 with a static address, no DNS (the firmware maps its server's host name to an
 * address itself), small pools sized for one HTTPS connection at a time.
 */
#ifndef EASD_LWIPOPTS_H
#define EASD_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_TIMERS 1

/* Memory: lwIP's own heap (PBUF_RAM, TCP segments being sent) and pools. */
#define MEM_ALIGNMENT 4
#define MEM_SIZE (6 * 1024)
#define MEMP_NUM_PBUF 16
#define MEMP_NUM_TCP_PCB 2
#define MEMP_NUM_TCP_PCB_LISTEN 0
#define MEMP_NUM_TCP_SEG 16
#define MEMP_NUM_UDP_PCB 0
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_SYS_TIMEOUT 6
/* Received frames are chained from 512-byte pool buffers (a full frame takes three): 16 of
   them cover the receive window plus ARP/ACK traffic. */
#define PBUF_POOL_SIZE 16
#define PBUF_POOL_BUFSIZE 512

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_TCP 1
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define ARP_TABLE_SIZE 4
#define ARP_QUEUEING 1

/* TCP: MSS of an Ethernet frame; the receive window bounds what the board buffers for a
   connection the application has not read yet. */
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (2 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 0
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_CALLBACK_API 1

/* Checksums in software (the LAN9118 in QEMU does not offload). */
#define LWIP_CHECKSUM_ON_COPY 0

/* Statistics are not used; debug output off. */
#define LWIP_STATS 0
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_SINGLE_NETIF 1
#define LWIP_PROVIDE_ERRNO 1

#endif /* EASD_LWIPOPTS_H */
