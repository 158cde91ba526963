import uuid

import pytest

from domain.agent import Agent, AgentStatus
from domain.api_key import ApiKey, check_token_shape, hash_token
from domain.errors import Forbidden, InvalidCredentials, InvalidValue, NotFound
from domain.principal import Principal
from tests.support.factories import NOW, a_tenant, an_agent


@pytest.mark.parametrize("name", ["", " ", "x" * 201, "a\x00b"])
def test_tenant_name_rules(name: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        a_tenant(name=name)
    assert raised.value.field == "name"


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "a b@c.io", "@c.io", "a@@c.io"])
def test_admin_email_must_look_like_one(email: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        a_tenant(admin_email=email)
    assert raised.value.field == "admin_email"


def test_tenant_equality_is_by_id() -> None:
    tenant = a_tenant()
    assert tenant == a_tenant(id=tenant.id, name="other")
    assert tenant != a_tenant()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.01),
        ("temperature", 2.01),
        ("temperature", float("nan")),
        ("temperature", "0.5"),
        ("temperature", True),
        ("max_tokens", 0),
        ("max_tokens", -1),
        ("max_tokens", 1.5),
        ("status", "bogus"),
        ("name", "x" * 201),
        ("model", ""),
    ],
)
def test_agent_rules(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        an_agent(uuid.uuid4(), **{field: value})
    assert raised.value.field == field


def test_agent_boundaries_are_accepted() -> None:
    agent = an_agent(uuid.uuid4(), temperature=2, max_tokens=1, status="draft", name="x" * 200)
    assert agent.status is AgentStatus.DRAFT
    assert agent.temperature == 2


def test_agent_update_is_all_or_nothing() -> None:
    agent = an_agent(uuid.uuid4(), temperature=0.5)
    with pytest.raises(InvalidValue):
        agent.update({"temperature": 1.0, "max_tokens": 0}, NOW)
    assert (agent.temperature, agent.max_tokens) == (0.5, None)
    with pytest.raises(InvalidValue):
        agent.update({"tenant_id": uuid.uuid4()}, NOW)
    agent.update({"status": "suspended"}, NOW)
    assert not agent.is_runnable


def test_keys_are_stored_as_sha256_and_shape_checked() -> None:
    token = "ak_tn_" + "A" * 43
    key = ApiKey.from_token(id=uuid.uuid4(), tenant_id=uuid.uuid4(), name="k", token=token, now=NOW)
    assert key.key_hash == hash_token(token)
    assert len(key.key_hash) == 32
    assert key.prefix == token[:12]
    assert token not in repr(key)
    with pytest.raises(ValueError, match="prefix"):
        ApiKey.from_token(id=uuid.uuid4(), tenant_id=None, name="k", token=token, now=NOW)
    for junk in ["", "Bearer", "ak_xx_" + "A" * 43, "ak_tn_short", "ak_tn_" + "!" * 43]:
        with pytest.raises(InvalidCredentials):
            check_token_shape(junk)


def test_principal_scope() -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    tenant = Principal(key_id=uuid.uuid4(), tenant_id=mine)
    operator = Principal(key_id=uuid.uuid4(), tenant_id=None)
    assert tenant.may_access(mine)
    assert not tenant.may_access(theirs)
    assert operator.may_access(theirs)
    with pytest.raises(NotFound):
        tenant.require_access(theirs, "Agent")
    with pytest.raises(Forbidden):
        tenant.require_operator()
    assert tenant.acting_tenant(None) == mine
    with pytest.raises(Forbidden):
        tenant.acting_tenant(theirs)
    with pytest.raises(InvalidValue) as raised:
        operator.acting_tenant(None)
    assert raised.value.field == "tenant_id"
    assert operator.acting_tenant(theirs) == theirs


def test_agent_repr_has_no_surprises() -> None:
    agent = Agent(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        name="n",
        system_prompt="",
        created_at=NOW,
        updated_at=NOW,
    )
    assert agent.model == "gpt-4o-mini"
    assert agent.temperature == 0.7
