using IshChat.Api.Validation;
using IshChat.Migrate.Legacy;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// The rules a legacy row must meet to be imported as is, checked in a fixed order so each
/// reject names the first rule it breaks. Stateless: duplicate checks live in <see cref="LegacySnapshot"/>.
/// </summary>
public static class RowRules
{
    /// <summary>Raw columns: rowid, id, name, platform, created_at, is_active.</summary>
    public static (DeviceRow? Row, string? Code) Device(object?[] raw)
    {
        var hash = RowHash.Of(raw);
        if (LooseValues.Id(raw[1]) is not { } id)
        {
            return (null, RejectCodes.IdInvalid);
        }

        var name = LooseValues.Text(raw[2]);
        if (name.Problem == TextProblem.Null || string.IsNullOrWhiteSpace(name.Text) && name.Problem == TextProblem.None)
        {
            return (null, RejectCodes.NameMissing);
        }

        if (name.Problem != TextProblem.None || TextRules.CheckName(name.Text) is not null)
        {
            return (null, RejectCodes.NameInvalid);
        }

        if (LooseValues.Timestamp(raw[4]) is not { } created)
        {
            return (null, RejectCodes.TimestampInvalid);
        }

        return (new DeviceRow((long)raw[0]!, id, name.Text!, created, hash), null);
    }

    /// <summary>Raw columns: id, device_id, topic, started_at, ended_at, closed.</summary>
    public static (SessionRow? Row, string? Code) Session(object?[] raw, Func<string, DeviceState> device)
    {
        var hash = RowHash.Of(raw);
        if (LooseValues.Id(raw[1]) is not { } deviceId)
        {
            return (null, RejectCodes.IdInvalid);
        }

        switch (device(deviceId))
        {
            case DeviceState.Missing:
                return (null, RejectCodes.DeviceMissing);
            case DeviceState.Rejected:
                return (null, RejectCodes.DeviceRejected);
        }

        if (LooseValues.Timestamp(raw[3]) is not { } started)
        {
            return (null, RejectCodes.TimestampInvalid);
        }

        if (LooseValues.Boolean(raw[5]) is not { } closed)
        {
            return (null, RejectCodes.BooleanInvalid);
        }

        DateTimeOffset? ended = null;
        if (raw[4] is not null)
        {
            ended = LooseValues.Timestamp(raw[4]) ?? (DateTimeOffset?)null;
            if (ended is null)
            {
                return (null, RejectCodes.TimestampInvalid);
            }
        }

        return (closed, ended) switch
        {
            (true, null) => (null, RejectCodes.EndedWithoutTime),
            (false, not null) => (null, RejectCodes.TimeWithoutEnded),
            _ => (new SessionRow((long)raw[0]!, deviceId, started, ended, hash), null),
        };
    }

    /// <summary>Raw columns: id, session_id, sender_id, client_msg_id, body, created_at, edited_at, deleted.</summary>
    public static (MessageRow? Row, string? Code) Message(
        object?[] raw, Guid instanceId, Func<long, SessionState> session, Func<string, DeviceState> device)
    {
        var legacyId = (long)raw[0]!;
        if (LooseValues.Id(raw[1]) is not { } sessionText || !long.TryParse(sessionText, out var sessionId))
        {
            return (null, RejectCodes.IdInvalid);
        }

        switch (session(sessionId))
        {
            case SessionState.Missing:
                return (null, RejectCodes.SessionMissing);
            case SessionState.Rejected:
                return (null, RejectCodes.SessionRejected);
        }

        if (LooseValues.Id(raw[2]) is not { } senderId)
        {
            return (null, RejectCodes.IdInvalid);
        }

        switch (device(senderId))
        {
            case DeviceState.Missing:
                return (null, RejectCodes.SenderMissing);
            case DeviceState.Rejected:
                return (null, RejectCodes.SenderRejected);
        }

        if (LooseValues.Timestamp(raw[5]) is not { } created)
        {
            return (null, RejectCodes.TimestampInvalid);
        }

        switch (LooseValues.Boolean(raw[7]))
        {
            case null:
                return (null, RejectCodes.BooleanInvalid);
            case true:
                return (null, RejectCodes.Deleted);
        }

        var derived = raw[3] is null;
        Guid clientId;
        if (derived)
        {
            clientId = NewIds.DerivedClientId(instanceId, legacyId);
        }
        else if (LooseValues.Uuid(raw[3] as string) is { } parsed)
        {
            clientId = parsed;
        }
        else
        {
            return (null, RejectCodes.ClientIdInvalid);
        }

        var body = LooseValues.Text(raw[4]);
        switch (body.Problem)
        {
            case TextProblem.Null:
                return (null, RejectCodes.BodyMissing);
            case TextProblem.InvalidUtf8:
                return (null, RejectCodes.BodyNotUtf8);
        }

        if (TextRules.CheckMessage(body.Text) is not null)
        {
            return (null, RejectCodes.BodyInvalid);
        }

        return (new MessageRow(legacyId, sessionId, senderId, clientId, derived, body.Text!, created), null);
    }
}

public enum DeviceState
{
    Valid,
    Missing,
    Rejected,
}

public enum SessionState
{
    Valid,
    Missing,
    Rejected,
}
