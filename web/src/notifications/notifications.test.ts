import { describe, expect, it } from "vitest";
import { fromText, toText } from "./ChannelForm";

describe("channel field text", () => {
  it("round-trips lists and header maps", () => {
    expect(fromText("list", toText("list", ["a@x", "b@x"]))).toEqual(["a@x", "b@x"]);
    expect(fromText("dict", toText("dict", { "X-Team": "ops", Auth: "a:b" }))).toEqual({ "X-Team": "ops", Auth: "a:b" });
  });
  it("leaves an empty optional field out and types numbers", () => {
    expect(fromText("str", "  ")).toBeUndefined();
    expect(fromText("int", "25")).toBe(25);
  });
});
