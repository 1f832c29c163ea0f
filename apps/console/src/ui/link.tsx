import type { ReactNode } from "react";
import { href, onLinkClick } from "../lib/router.js";

/** An in-app link: a real <a href> (keyboard, middle click, copy link) that navigates without a reload. */
export function Link(props: { to: string; children: ReactNode; className?: string; "aria-current"?: "page" | undefined }) {
  return (
    <a href={href(props.to)} onClick={onLinkClick(props.to)} className={props.className} aria-current={props["aria-current"]}>
      {props.children}
    </a>
  );
}
