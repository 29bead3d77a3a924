/**
 * Published address ranges of large CDNs, shipped so that lint works offline. An address in one of them is shared
 * by the CDN's customers: marking it marks other people's services. Dated: CDNs add ranges over time, so an
 * address that is not listed here may still be a CDN's (lint says "as of" this date). To refresh, replace the
 * lists with the providers' current ones and update `asOf` and the sources.
 */
export interface CdnRangeList {
  provider: string;
  /** Where the list is published, and the copy it was taken from. */
  source: string;
  asOf: string;
  ranges: string[];
}

export const CDN_RANGES: CdnRangeList[] = [
  {
    provider: 'Cloudflare',
    source: 'https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6 (as shipped by the npm package cloudflare-ip 0.0.7, published 2024-12-13, with its 104.16.0.0/12 written as Cloudflare publishes it: 104.16.0.0/13 and 104.24.0.0/14)',
    asOf: '2024-12-13',
    ranges: [
      '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '104.16.0.0/13', '104.24.0.0/14', '108.162.192.0/18', '131.0.72.0/22',
      '141.101.64.0/18', '162.158.0.0/15', '172.64.0.0/13', '173.245.48.0/20', '188.114.96.0/20', '190.93.240.0/20', '197.234.240.0/22',
      '198.41.128.0/17',
      '2400:cb00::/32', '2405:8100::/32', '2405:b500::/32', '2606:4700::/32', '2803:f800::/32', '2a06:98c0::/29', '2c0f:f248::/32',
    ],
  },
  {
    provider: 'Fastly',
    source: 'https://api.fastly.com/public-ip-list (as shipped by the npm package @tryghost/fastly-ip 0.1.10, published 2026-09-01)',
    asOf: '2026-09-01',
    ranges: [
      '23.235.32.0/20', '43.249.72.0/22', '103.244.50.0/24', '103.245.222.0/23', '103.245.224.0/24', '104.156.80.0/20', '146.75.0.0/17',
      '151.101.0.0/16', '157.52.64.0/18', '167.82.0.0/17', '167.82.128.0/20', '167.82.160.0/20', '167.82.224.0/20', '172.111.64.0/18',
      '185.31.16.0/22', '199.27.72.0/21', '199.232.0.0/16',
      '2a04:4e40::/32', '2a04:4e42::/32',
    ],
  },
];
