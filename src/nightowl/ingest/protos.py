"""Protobuf message classes for remote write 1.0 and 2.0, built at run time from field tables.

No generated code: each schema is a small table (field name, number, type), turned into a
`FileDescriptorProto` and a message class. The *lite* variants declare nested messages as `bytes`
(wire-compatible), so the decoder can key its series cache on the raw label bytes and decode all
samples at once with numpy instead of materialising one Python object per sample.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
Field = tuple[str, int, int, int, str]
"""(name, number, type, label, message type name or "")."""

ONE, MANY = F.LABEL_OPTIONAL, F.LABEL_REPEATED


def build(package: str, messages: dict[str, list[Field]]) -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(name=f"nightowl/{package}.proto", package=package, syntax="proto3")
    for message_name, fields in messages.items():
        message = file.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".{package}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}")) for name in messages}


_V1 = build(
    "nightowl.rw1",
    {
        "Label": [("name", 1, F.TYPE_STRING, ONE, ""), ("value", 2, F.TYPE_STRING, ONE, "")],
        "Sample": [("value", 1, F.TYPE_DOUBLE, ONE, ""), ("timestamp", 2, F.TYPE_INT64, ONE, "")],
        "MetricMetadata": [
            ("type", 1, F.TYPE_INT32, ONE, ""),
            ("metric_family_name", 2, F.TYPE_STRING, ONE, ""),
            ("help", 4, F.TYPE_STRING, ONE, ""),
            ("unit", 5, F.TYPE_STRING, ONE, ""),
        ],
        "TimeSeries": [
            ("labels", 1, F.TYPE_BYTES, MANY, ""),
            ("samples", 2, F.TYPE_BYTES, MANY, ""),
            ("histograms", 4, F.TYPE_BYTES, MANY, ""),
        ],
        "WriteRequest": [
            ("timeseries", 1, F.TYPE_MESSAGE, MANY, "TimeSeries"),
            ("metadata", 3, F.TYPE_MESSAGE, MANY, "MetricMetadata"),
        ],
        "WriteRequestRaw": [
            ("timeseries", 1, F.TYPE_BYTES, MANY, ""),
            ("metadata", 3, F.TYPE_MESSAGE, MANY, "MetricMetadata"),
        ],
    },
)

_V2 = build(
    "nightowl.rw2",
    {
        "Metadata": [
            ("type", 1, F.TYPE_INT32, ONE, ""),
            ("help_ref", 3, F.TYPE_UINT32, ONE, ""),
            ("unit_ref", 4, F.TYPE_UINT32, ONE, ""),
        ],
        "TimeSeries": [
            ("labels_refs", 1, F.TYPE_UINT32, MANY, ""),
            ("samples", 2, F.TYPE_BYTES, MANY, ""),
            ("histograms", 3, F.TYPE_BYTES, MANY, ""),
            ("exemplars", 4, F.TYPE_BYTES, MANY, ""),
            ("metadata", 5, F.TYPE_MESSAGE, ONE, "Metadata"),
        ],
        "Request": [
            ("symbols", 4, F.TYPE_STRING, MANY, ""),
            ("timeseries", 5, F.TYPE_MESSAGE, MANY, "TimeSeries"),
        ],
    },
)

Label: Any = _V1["Label"]
Sample: Any = _V1["Sample"]
TimeSeries: Any = _V1["TimeSeries"]
WriteRequest: Any = _V1["WriteRequest"]
WriteRequestRaw: Any = _V1["WriteRequestRaw"]
RequestV2: Any = _V2["Request"]

METRIC_TYPES = ("unknown", "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset")
"""Remote write's MetricType enum, by number (the same numbers in 1.0 and 2.0)."""
