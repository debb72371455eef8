import type { Profile } from '../pprof/profile.js';
import { type CallEdge, computeCallEdges } from './call-edges.js';

/** The compiler's default -d=pgoinlinecdfthreshold: hot edges cover 99% of the edge weight. */
export const DEFAULT_CDF_THRESHOLD_PERCENT = 99;

export interface HotCallSite extends CallEdge {
  /** This edge's share of the total edge weight, in percent. */
  sharePercent: number;
  /** Cumulative share up to and including this edge, in percent. */
  cumulativePercent: number;
  hot: boolean;
}

export interface HotCallSiteReport {
  valueType: string;
  totalWeight: number;
  /** What the compiler prints as hot-callsite-thres-from-CDF: the share (percent) of the edge that crosses the CDF line; 0 when none does. */
  thresholdPercent: number;
  /** How many of the leading edges are hot. */
  hotCount: number;
  edges: HotCallSite[];
}

/**
 * Returns every call edge of `p` with its share, and the hot set exactly as the compiler's
 * hotNodesFromCDF computes it: walking edges in order, the first edge at which the
 * cumulative weight is strictly above `cdfThreshold` percent of the total is the last hot
 * one, and its own share is the printed threshold. When no edge crosses the line (threshold
 * 100, or no weight), every edge is hot and the threshold is 0.
 */
export function hotCallSites(p: Profile, cdfThreshold = DEFAULT_CDF_THRESHOLD_PERCENT): HotCallSiteReport {
  const { edges, totalWeight, valueType } = computeCallEdges(p);
  let hotCount = edges.length;
  let thresholdPercent = 0;
  let cum = 0;
  for (let i = 0; i < edges.length; i++) {
    cum += edges[i].weight;
    if ((cum / totalWeight) * 100 > cdfThreshold) {
      thresholdPercent = (edges[i].weight / totalWeight) * 100;
      hotCount = i + 1;
      break;
    }
  }
  let running = 0;
  const out = edges.map((e, i): HotCallSite => {
    running += e.weight;
    return {
      ...e,
      sharePercent: totalWeight === 0 ? 0 : (e.weight / totalWeight) * 100,
      cumulativePercent: totalWeight === 0 ? 0 : (running / totalWeight) * 100,
      hot: i < hotCount,
    };
  });
  return { valueType, totalWeight, thresholdPercent, hotCount, edges: out };
}
