import pytest
from hypothesis import given
from hypothesis import strategies as st

from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials


@pytest.mark.parametrize(
    "name",
    [
        "重庆智翔金泰生物制药股份有限公司",
        "智翔金泰（重庆）生物制药有限公司",
        "智翔金泰(重庆)生物制药有限责任公司",
        "  智翔金泰 生物制药  ",
        "重庆市智翔金泰生物制药集团",
    ],
)
def test_names_of_the_same_company_normalize_to_the_same_key(name):
    assert normalize_org_name(name) == "智翔金泰生物制药"


def test_different_companies_keep_different_keys():
    assert normalize_org_name("重庆宏冠医疗器械有限公司") != normalize_org_name("重庆宏康医疗器械有限公司")


@pytest.mark.parametrize("name", ["公司", "有限公司", "股份有限公司", "（重庆）", "重庆"])
def test_a_name_that_is_only_a_legal_form_or_a_place_is_never_emptied(name):
    assert normalize_org_name(name) != ""


@given(
    st.text(alphabet=st.sampled_from(list("重庆市中国智翔金泰有限公司股份集团()（）分 abc1")), max_size=30)
)
def test_normalizing_a_normalized_name_changes_nothing(name):
    once = normalize_org_name(name)
    assert normalize_org_name(once) == once


def test_pinyin_initials_find_zxjt_in_the_full_name():
    assert "zxjt" in pinyin_initials("重庆智翔金泰生物制药股份有限公司")
    assert pinyin_initials("重庆智翔金泰生物制药股份有限公司").startswith("cq")  # 重庆 is chong, not zhong


def test_full_pinyin_keeps_latin_letters_and_digits():
    assert pinyin_full("P3实验室") == "p3shiyanshi"


@pytest.mark.parametrize(
    "name",
    [
        "重庆市长寿区银行行长",
        "ADC药物重庆abc",
        "苏州启明抗体药物有限公司",
        "重庆智翔金泰生物制药股份有限公司",
        "长春长生生物科技有限责任公司",
        "乐山银行",
        "朝阳重工（集团）有限公司",
        "台账项目00012二期",
        "",
    ],
)
def test_names_read_word_by_word_give_the_same_pinyin_as_reading_them_whole(name):
    from pypinyin import Style, lazy_pinyin

    whole_initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    whole_full = "".join(lazy_pinyin(name)).lower()
    assert pinyin_initials(name) == "".join(c for c in whole_initials if c.isascii() and c.isalnum())
    assert pinyin_full(name) == "".join(c for c in whole_full if c.isascii() and c.isalnum())


def test_the_phrase_dictionary_held_compactly_is_pypinyins_own_word_for_word():
    import json

    from pypinyin.constants import PHRASES_DICT

    from yimatong.lib import text

    with text._PHRASES_JSON.open(encoding="utf-8") as f:
        assert json.load(f) == PHRASES_DICT
    # The words' readings decide the initials a search by pinyin finds: 重 in 重庆 reads chóng.
    assert pinyin_initials("重庆泰和药业有限公司") == "cqthyyyxgs"
    assert pinyin_full("银行") == "yinhang"


def test_a_phrase_file_that_is_not_an_object_of_phrases_is_refused_not_half_read(tmp_path):
    from yimatong.lib.text import _compact_phrases

    good = tmp_path / "good.json"
    good.write_text('{\n"重庆": [["chóng"], ["qìng"]],\n "\\u4e00\\u4e00": [["yī"], ["yī"]]\n}\n')
    assert _compact_phrases(good) == {"重庆": [["chóng"], ["qìng"]], "一一": [["yī"], ["yī"]]}
    bad = tmp_path / "bad.json"
    bad.write_text('{"重庆": [["chóng"], ["qìng"]], 3: []}')
    with pytest.raises(ValueError, match="not a JSON object of phrases"):
        _compact_phrases(bad)


def test_names_sharing_words_keep_each_words_reading_around_latin_letters_and_digits():
    # Each run of Chinese characters is converted once and cached: the readings must be those
    # of the whole run (重庆 chongqing, 银行 yinhang), whatever surrounds it.
    assert pinyin_full("重庆ADC药物00001银行") == "chongqingadcyaowu00001yinhang"
    assert pinyin_full("银行行长（重庆）") == "yinhanghangzhangchongqing"
    assert pinyin_initials("基准导入00002生物科技有限公司") == "jzdr00002swkjyxgs"
