import { useEffect, useRef } from "react";
import uPlot from "uplot";
import type { MetricSeries } from "../lib/metric-series.js";
import { formatNumber } from "./format.js";

/**
 * The live training chart: loss and eval loss (left axis) and the learning rate (right axis)
 * against the step. uPlot (≈ 50 KB, canvas) redraws a few thousand points in well under a
 * millisecond, so every batch of streamed points is a full `setData`, at most once per frame.
 * `revision` changes whenever `series` has new points.
 */
export function LossChart(props: { series: MetricSeries; revision: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const frame = useRef(0);

  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const width = Math.max(280, element.clientWidth);
    const style = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const options: uPlot.Options = {
      width, height: chartHeight(width),
      scales: { x: { time: false }, lr: { auto: true } },
      axes: [
        { label: "step", stroke: color("--muted", "#57606a"), grid: { stroke: "#e5e7eb" } },
        { label: "loss", stroke: color("--muted", "#57606a"), grid: { stroke: "#e5e7eb" } },
        // Wide enough for "0.0045" and the rotated label beside it.
        { label: "learning rate", scale: "lr", side: 1, size: 80, grid: { show: false }, stroke: color("--muted", "#57606a"), values: (_u, ticks) => ticks.map((t) => formatNumber(t, 2)) },
      ],
      series: [
        { label: "step" },
        { label: "loss", stroke: "#1f6feb", width: 2, spanGaps: true },
        { label: "eval loss", stroke: "#d1242f", width: 2, spanGaps: true, points: { show: true, size: 6 } },
        { label: "learning rate", stroke: "#8250df", width: 1, dash: [4, 4], scale: "lr", spanGaps: true },
      ],
      legend: { live: true },
    };
    const chart = new uPlot(options, props.series.table(), element);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const w = Math.max(280, element.clientWidth);
      if (w !== chart.width) chart.setSize({ width: w, height: chartHeight(w) });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame.current);
      chart.destroy();
      plot.current = null;
    };
  }, [props.series]);

  useEffect(() => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => plot.current?.setData(props.series.table()));
  }, [props.revision, props.series]);

  return (
    <figure className="chart">
      <div ref={box} className="chart-canvas" data-testid="loss-chart" data-points={props.series.size} />
      <figcaption className="sr-only">Training loss, eval loss and learning rate by step; {props.series.size} steps so far.</figcaption>
    </figure>
  );
}

function chartHeight(width: number): number {
  return Math.round(Math.min(360, Math.max(220, width * 0.4)));
}
