"""Campaign partitions: academic year and half, and which files belong to which campaign."""

import dagster as dg
import pytest

from pipelines.defs.ingest.partitions import CAMPAIGNS, register_campaigns
from pipelines.ingest.campaigns import (
    CAMPAIGN_KEYS,
    campaign_for_year,
    campaign_of_file,
    campaigns_in_landing,
    years_for_campaign,
)
from tests.conftest import SAMPLE_DIR


def test_campaign_keys_range_over_2018_2019_to_2035_2036_by_half_year():
    keys = list(CAMPAIGN_KEYS)
    assert len(keys) == 36 and keys[:2] == ["2018-2019/H1", "2018-2019/H2"] and keys[-1] == "2035-2036/H2"


def test_the_partitions_are_the_campaigns_found_in_the_landing_folder(tmp_path):
    found = campaigns_in_landing(SAMPLE_DIR)
    assert found == [campaign_for_year(year) for year in range(2019, 2025)]  # the sample's 2019–2024
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert register_campaigns(instance, found) == found
        assert register_campaigns(instance, found) == []  # already partitions
        assert list(instance.get_dynamic_partitions(CAMPAIGNS.name)) == found


def test_spring_vpr_and_summer_gia_of_a_year_belong_to_its_h2_campaign():
    assert campaign_for_year(2024) == "2023-2024/H2"
    assert years_for_campaign("2023-2024/H2") == (2024,)
    assert all(years_for_campaign(campaign_for_year(y)) == (y,) for y in range(2019, 2037))


def test_h1_campaigns_exist_and_find_no_files_in_the_current_layout():
    assert "2020-2021/H1" in CAMPAIGN_KEYS
    assert years_for_campaign("2020-2021/H1") == ()


@pytest.mark.parametrize("key", ["2023/H2", "2023-2025/H2", "2023-2024/H3", "2023-2024"])
def test_malformed_campaign_keys_are_refused(key):
    with pytest.raises(ValueError, match="not a campaign key"):
        years_for_campaign(key)


def test_files_find_their_campaign_by_place_and_name(landing):
    assert campaign_of_file("vpr/2023/sch860001_MA5.xlsx") == "2022-2023/H2"
    assert campaign_of_file("vpr/vpr_2024.parquet") == "2023-2024/H2"
    assert campaign_of_file("gia/gia_2019.csv") == "2018-2019/H2"
    assert campaign_of_file("fioko/shnor_2023.xlsx") is None
    landing.vpr_form(year=2024)
    assert campaigns_in_landing(landing.root) == ["2022-2023/H2", "2023-2024/H2"]
